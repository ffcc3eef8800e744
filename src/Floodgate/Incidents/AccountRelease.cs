using Floodgate.Engine;
using Floodgate.Quarantine;

namespace Floodgate.Incidents;

/// <summary>
/// The review step of the containment ladder: lifts an identity's suspension, delivers or purges everything the
/// held-mail ledger holds for it, restarts its counters (if configured) and closes its incident.
/// </summary>
public sealed partial class AccountRelease(IAccountStore accounts, IncidentBook incidents, HeldMail held, IEnumerable<ICounterReset> counters,
    IAuditLog audit, ReleaseOptions options, TimeProvider time, ILogger<AccountRelease> logger)
{
    private readonly ICounterReset[] _counters = [.. counters];

    /// <summary>Releases <paramref name="identity"/>; its held mail is acted on as <paramref name="mode"/> says.</summary>
    public async Task<ReleaseOutcome> ReleaseAsync(Identity identity, ReleaseMode mode, string by)
    {
        var wasSuspended = await accounts.ReleaseAsync(identity);
        if (!wasSuspended && by == "floodgate")
        {
            // In a cluster every node's keeper finds the suspension time up; the node that lifted it closes the incident.
            incidents.Forget(identity);
            return new ReleaseOutcome(false, null, 0, 0, null);
        }

        // A flood's incident groups identities without a login: releasing one of them releases them all, the same way.
        var members = incidents.OpenIncidentOf(identity)?.Snapshot() is { } open
            ? open.Evidence.Grouped.Append(open.Identity).Where(m => m != identity).ToList()
            : [];
        var places = await held.ReleaseAsync(identity, mode, by);
        foreach (var member in members)
        {
            await accounts.ReleaseAsync(member);
            places = [.. places, .. await held.ReleaseAsync(member, mode, by)];
        }

        if (members.Count > 0)
        {
            places = [.. places.GroupBy(p => p.Place).Select(g => new HeldMailRelease(g.Key, g.Sum(p => p.Acted), g.Sum(p => p.Left), g.Sum(p => p.Gone),
                g.Select(p => p.Problem).FirstOrDefault(p => p is not null)))];
        }

        if (options.ResetCounters)
        {
            foreach (var member in members.Prepend(identity))
            {
                foreach (var store in _counters)
                {
                    await store.ResetAsync(member);
                }
            }
        }

        var resolution = mode switch
        {
            ReleaseMode.Deliver => "delivered",
            ReleaseMode.Purge => "purged",
            _ => by == "floodgate" ? "auto-released" : "released",
        };
        var acted = places.Sum(p => p.Acted);
        var left = places.Sum(p => p.Left);
        var problems = places.Where(p => p.Problem is not null).Select(p => $"{p.Place}: {p.Problem}").ToList();
        var detail = mode == ReleaseMode.Keep
            ? $"{resolution}; held mail kept"
            : $"{resolution}; {acted} held messages {resolution}" + string.Concat(places.Where(p => p.Acted > 0 || p.Left > 0 || p.Gone > 0 || p.Problem is not null)
                .Select(p => "; " + p.Describe(resolution)));
        var incident = await incidents.CloseAsync(identity, resolution, by, detail);
        await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), by, "release", identity.ToString(), detail));
        LogReleased(identity.ToString(), by, detail);
        return new ReleaseOutcome(wasSuspended, incident, acted, left, problems.Count == 0 ? null : string.Join("; ", problems))
        {
            Places = places,
        };
    }

    /// <summary>Releases (keeping held mail) every incident whose suspension time is up; returns how many.</summary>
    public async Task<int> ReleaseDueAsync()
    {
        var due = incidents.DueForRelease(time.GetUtcNow());
        foreach (var incident in due)
        {
            await ReleaseAsync(incident.Identity, ReleaseMode.Keep, "floodgate");
        }

        return due.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RELEASED {Identity} by {By}: {Detail}")]
    private partial void LogReleased(string identity, string by, string detail);
}
