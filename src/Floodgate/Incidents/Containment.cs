using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Floodgate.Alerts;
using Floodgate.Engine;
using Floodgate.Storage;

namespace Floodgate.Incidents;

/// <summary>
/// The containment ladder after a limit: opens one incident per suspension (with evidence, and an alert), adds what
/// the suspended identity keeps trying to the evidence, and releases accounts (by an admin or when a rule's
/// suspension time is up), acting on Postfix's hold queue. Everything off the decision path is batched.
/// </summary>
public sealed partial class Containment
{
    // A sample is enough to show what the account was sending; alerts and the API list it.
    private const int MaxSubjects = 20;

    private readonly IAccountStore _accounts;
    private readonly IIncidentStore _incidents;
    private readonly IAuditLog _audit;
    private readonly IIncidentAlerts[] _alerts;
    private readonly MemoryCounterStore _counters;
    private readonly SqliteCounterSnapshots _snapshots;
    private readonly IExemptionStore _exemptionStore;
    private readonly RedisCounterStore? _sharedCounters;
    private readonly DecisionEngine _engine;
    private readonly ReleaseOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<Containment> _logger;
    private readonly IHeldMail[] _heldMail;
    private readonly ConcurrentDictionary<Identity, Incident> _open = new();
    private readonly ConcurrentDictionary<Incident, byte> _dirty = new(ReferenceEqualityComparer.Instance);

    public Containment(IAccountStore accounts, IIncidentStore incidents, IAuditLog audit, IEnumerable<IIncidentAlerts> alerts,
        MemoryCounterStore counters, SqliteCounterSnapshots snapshots, IExemptionStore exemptions, DecisionEngine engine,
        ReleaseOptions options, TimeProvider time, ILogger<Containment> logger, IEnumerable<IHeldMail>? heldMail = null,
        RedisCounterStore? sharedCounters = null)
    {
        _heldMail = [.. heldMail ?? []];
        _sharedCounters = sharedCounters;
        _accounts = accounts;
        _incidents = incidents;
        _audit = audit;
        _alerts = [.. alerts];
        _counters = counters;
        _snapshots = snapshots;
        _exemptionStore = exemptions;
        _engine = engine;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Incidents not yet closed.</summary>
    public IReadOnlyCollection<Incident> OpenIncidents => [.. _open.Values.OrderBy(i => i.Id)];

    public Incident? OpenIncidentOf(Identity identity) => _open.TryGetValue(identity, out var incident) ? incident : null;

    /// <summary>Reads open incidents and exemptions in force back from the store (at start).</summary>
    public async Task LoadAsync()
    {
        await SyncIncidentsAsync();
        SyncExemptions();
    }

    /// <summary>
    /// Takes in the store's open incidents and drops those it has closed: in a cluster, another node may have opened
    /// or closed them. An incident this node keeps evidence in stays the same object.
    /// </summary>
    public async Task SyncIncidentsAsync()
    {
        var stored = (await _incidents.ListAsync(openOnly: true, int.MaxValue)).ToDictionary(i => i.Identity);
        foreach (var (identity, incident) in stored)
        {
            // A provisional incident (Id 0: evidence seen before the suspending node stored its incident) gives way
            // to the stored one; the same incident already held here keeps its newer evidence.
            if (!_open.TryGetValue(identity, out var live) || live.Id != incident.Id)
            {
                _open[identity] = incident;
            }
        }

        foreach (var (identity, live) in _open)
        {
            if (live.Id != 0 && (!stored.TryGetValue(identity, out var incident) || incident.Id != live.Id))
            {
                _open.TryRemove(new KeyValuePair<Identity, Incident>(identity, live));
                _dirty.TryRemove(live, out _);
            }
        }
    }

    /// <summary>Makes the engine's exemptions and overrides those of the store (another node may have changed them).</summary>
    public void SyncExemptions()
    {
        var exemptions = _exemptionStore.Load(_time.GetUtcNow());
        foreach (var exemption in exemptions)
        {
            _engine.Exemptions.Set(exemption);
        }

        foreach (var gone in _engine.Exemptions.All.Where(e => !exemptions.Any(x => x.Key == e.Key)))
        {
            _engine.Exemptions.Remove(gone.Key);
        }

        var overrides = _exemptionStore.LoadOverrides();
        foreach (var (key, rule, max) in overrides)
        {
            _engine.Overrides.Set(key, rule, max);
        }

        foreach (var (key, rule, _) in _engine.Overrides.All.Where(o => !overrides.Any(x => x.Key == o.Key && x.Rule == o.Rule)))
        {
            _engine.Overrides.Remove(key, rule);
        }
    }

    /// <summary>
    /// Looks at one decision: a new suspension opens an incident; a refusal of a suspended identity adds to its
    /// evidence. Accepted mail costs one comparison.
    /// </summary>
    public void Observe(in Submission submission, in Decision decision, DecisionStage stage, ReadOnlySpan<byte> queueId,
        ReadOnlySpan<byte> recipient, ReadOnlySpan<long> counts, string? subject = null)
    {
        if (decision.Verdict == Verdict.Accept || decision.Suspension is not { } suspension)
        {
            return;
        }

        // Other connections see the suspension while its incident is still being written: they add their evidence
        // to the same incident object, which the suspending decision then fills in and stores.
        var opened = decision.NewlySuspended ? Open(suspension, submission, decision, counts, announce: false) : null;
        var incident = opened ?? _open.GetOrAdd(suspension.Identity, static (_, s) => Provisional(s), suspension);

        lock (incident)
        {
            var evidence = incident.Evidence;
            evidence.FirstSubmission ??= submission.Time;
            evidence.LastSubmission = submission.Time;
            if (stage == DecisionStage.Count)
            {
                evidence.RefusedMessages++;
                evidence.RefusedRecipients += submission.RecipientCount;
            }

            Tally(evidence.ClientAddresses, submission.ClientAddress);
            Tally(evidence.Senders, string.IsNullOrEmpty(submission.Sender) ? null : submission.Sender);
            var at = recipient.LastIndexOf((byte)'@');
            if (at >= 0 && at < recipient.Length - 1)
            {
                Tally(evidence.RecipientDomains, Encoding.UTF8.GetString(recipient[(at + 1)..]).ToLowerInvariant());
            }

            foreach (var address in submission.Recipients ?? [])
            {
                var domainAt = address.LastIndexOf('@');
                if (domainAt >= 0 && domainAt < address.Length - 1)
                {
                    Tally(evidence.RecipientDomains, address[(domainAt + 1)..].ToLowerInvariant());
                }
            }

            if (subject is not null && evidence.Subjects.Count < MaxSubjects && !evidence.Subjects.Contains(subject))
            {
                evidence.Subjects.Add(subject);
            }

            if (!queueId.IsEmpty && evidence.QueueIds.Count < IncidentEvidence.MaxListed)
            {
                var id = Encoding.ASCII.GetString(queueId);
                if (evidence.QueueIds.Count == 0 || evidence.QueueIds[^1] != id)
                {
                    evidence.QueueIds.Add(id);
                }
            }
        }

        _dirty[incident] = 0;
        if (opened is not null)
        {
            Announce(opened);
        }
    }

    /// <summary>Notes recipients the relay's next hop refused for good, for mail counted against <paramref name="countedAs"/>.</summary>
    public void ObserveRefusedRecipients(string? countedAs, int count)
    {
        if (countedAs is null || count <= 0)
        {
            return;
        }

        LogRefusedByNextHop(countedAs, count);
        var incident = _open.Values.FirstOrDefault(i => i.Identity.ToString() == countedAs);
        if (incident is null)
        {
            return;
        }

        lock (incident)
        {
            incident.Evidence.RecipientsRefusedByNextHop += count;
        }

        _dirty[incident] = 0;
    }

    /// <summary>Suspends an identity by hand; returns its open incident (an existing one if it was already suspended).</summary>
    public async Task<Incident> SuspendAsync(Identity identity, string reason, string by)
    {
        var now = _time.GetUtcNow();
        var suspension = new Suspension(identity, now, null, reason, by);
        if (!await _accounts.SuspendAsync(suspension)
            && (_open.TryGetValue(identity, out var existing) || (existing = await StoredOpenIncidentAsync(identity)) is not null))
        {
            return existing;
        }

        await _audit.AppendAsync(new AuditEntry(now, by, "suspend", identity.ToString(), reason));
        return Open(suspension, null, null, [], announce: true);
    }

    /// <summary>
    /// Releases an identity: lifts the suspension, acts on its held mail in Postfix's hold queue as
    /// <paramref name="mode"/> says, restarts its counters (if configured) and closes its incident.
    /// </summary>
    public async Task<ReleaseOutcome> ReleaseAsync(Identity identity, ReleaseMode mode, string by)
    {
        var now = _time.GetUtcNow();
        var wasSuspended = await _accounts.ReleaseAsync(identity);
        _open.TryRemove(identity, out var incident);
        if (!wasSuspended && by == "floodgate")
        {
            // In a cluster every node's keeper finds the suspension time up; the node that lifted it closes the incident.
            return new ReleaseOutcome(false, null, 0, null);
        }

        // In a cluster the incident may have been opened on another node after this one last looked.
        incident ??= await StoredOpenIncidentAsync(identity);
        var queueIds = incident is null ? [] : QueueIdsOf(incident);
        string? problem = null;
        if (mode != ReleaseMode.Keep && queueIds.Count > 0)
        {
            problem = await PostfixAsync(_options.Postsuper, mode == ReleaseMode.Deliver ? "-H" : "-d", queueIds);

            // postsuper -H moves the mail to the deferred queue; a queue run sends it now rather than in minutes.
            if (problem is null && mode == ReleaseMode.Deliver)
            {
                problem = await PostfixAsync(_options.Postqueue, "-f", []);
            }
        }

        // The relay's quarantine holds mail of its own for the same identity.
        var relayed = 0;
        foreach (var held in _heldMail)
        {
            relayed += await held.ReleaseAsync(identity, mode, by);
        }

        if (_options.ResetCounters)
        {
            _counters.Reset(identity.Scope, identity.Key);
            _snapshots.Delete(identity.Scope, identity.Key);
            if (_sharedCounters is not null)
            {
                await _sharedCounters.ResetAsync(_engine.Rules, identity);
            }
        }

        var resolution = mode switch
        {
            ReleaseMode.Deliver => "delivered",
            ReleaseMode.Purge => "purged",
            _ => by == "floodgate" ? "auto-released" : "released",
        };
        var detail = $"{resolution}; {queueIds.Count + relayed} held messages {(mode == ReleaseMode.Keep ? "kept" : resolution)}" + (problem is null ? "" : $"; problem: {problem}");
        if (incident is not null)
        {
            lock (incident)
            {
                incident.ClosedAt = now;
                incident.ClosedBy = by;
                incident.Resolution = resolution;
                incident.Timeline.Add(new IncidentEvent(now, resolution, by, detail));
            }

            _dirty.TryRemove(incident, out _);
            await _incidents.SaveAsync(incident);
            foreach (var alerts in _alerts)
            {
                alerts.Closed(incident);
            }
        }

        await _audit.AppendAsync(new AuditEntry(now, by, "release", identity.ToString(), detail));
        LogReleased(identity.ToString(), by, detail);
        return new ReleaseOutcome(wasSuspended, incident, queueIds.Count + relayed, problem);
    }

    /// <summary>Releases (keeping held mail) every incident whose suspension time is up; returns how many.</summary>
    public async Task<int> ReleaseDueAsync()
    {
        var now = _time.GetUtcNow();
        var due = _open.Values.Where(i => i.AutoReleaseAt is { } at && at <= now).ToList();
        foreach (var incident in due)
        {
            await ReleaseAsync(incident.Identity, ReleaseMode.Keep, "floodgate");
        }

        return due.Count;
    }

    /// <summary>Adds an alert's delivery to its incident's timeline.</summary>
    public void RecordAlerted(long incidentId, string channel, string detail)
    {
        var incident = _open.Values.FirstOrDefault(i => i.Id == incidentId);
        if (incident is null)
        {
            return;
        }

        lock (incident)
        {
            incident.Timeline.Add(new IncidentEvent(_time.GetUtcNow(), "alerted", channel, detail));
        }

        _dirty[incident] = 0;
    }

    /// <summary>Writes the evidence gathered since the last flush.</summary>
    public async Task FlushAsync()
    {
        foreach (var incident in _dirty.Keys)
        {
            // An incident still being opened has no id yet: it is saved on a later flush.
            if (incident.Id != 0 && _dirty.TryRemove(incident, out _))
            {
                await _incidents.SaveAsync(incident);
            }
        }
    }

    /// <summary>Grants a time-limited exemption (no limit when <paramref name="max"/> is null).</summary>
    public async Task<Exemption> ExemptAsync(string key, long? max, DateTimeOffset until, string by)
    {
        var exemption = new Exemption(IdentityNormalizer.Normalize(key), max, until, by, _time.GetUtcNow());
        _exemptionStore.Save(exemption);
        _engine.Exemptions.Set(exemption);
        await _audit.AppendAsync(new AuditEntry(exemption.CreatedAt, by, "exempt", exemption.Key,
            $"{(max is null ? "no limit" : $"limits raised to {max}")} until {until:u}"));
        return exemption;
    }

    public async Task<bool> RemoveExemptionAsync(string key, string by)
    {
        var removed = _exemptionStore.Delete(IdentityNormalizer.Normalize(key)) | _engine.Exemptions.Remove(key);
        if (removed)
        {
            await _audit.AppendAsync(new AuditEntry(_time.GetUtcNow(), by, "unexempt", IdentityNormalizer.Normalize(key), null));
        }

        return removed;
    }

    /// <summary>Sets a lasting per-account or per-domain limit for one rule (wins over the configuration's).</summary>
    public async Task SetOverrideAsync(string key, string rule, long max, string by)
    {
        var now = _time.GetUtcNow();
        _exemptionStore.SaveOverride(IdentityNormalizer.Normalize(key), rule, max, by, now);
        _engine.Overrides.Set(key, rule, max);
        await _audit.AppendAsync(new AuditEntry(now, by, "override", IdentityNormalizer.Normalize(key), $"{rule}: {max}"));
    }

    public async Task<bool> RemoveOverrideAsync(string key, string rule, string by)
    {
        var removed = _exemptionStore.DeleteOverride(IdentityNormalizer.Normalize(key), rule) | _engine.Overrides.Remove(key, rule);
        if (removed)
        {
            await _audit.AppendAsync(new AuditEntry(_time.GetUtcNow(), by, "remove-override", IdentityNormalizer.Normalize(key), rule));
        }

        return removed;
    }

    private async Task<Incident?> StoredOpenIncidentAsync(Identity identity) =>
        (await _incidents.ListAsync(openOnly: true, int.MaxValue)).FirstOrDefault(i => i.Identity == identity);

    private static void Tally(Dictionary<string, long> counts, string? key)
    {
        if (key is null)
        {
            return;
        }

        if (counts.TryGetValue(key, out var n))
        {
            counts[key] = n + 1;
        }
        else if (counts.Count < IncidentEvidence.MaxListed)
        {
            counts[key] = 1;
        }
    }

    private static List<string> QueueIdsOf(Incident incident)
    {
        lock (incident)
        {
            return [.. incident.Evidence.QueueIds.Distinct()];
        }
    }

    private static Incident Provisional(Suspension suspension) => new()
    {
        Identity = suspension.Identity,
        Rule = suspension.Rule,
        Reason = suspension.Reason,
        OpenedAt = suspension.Since,
    };

    private Incident Open(Suspension suspension, Submission? submission, Decision? decision, ReadOnlySpan<long> counts, bool announce)
    {
        var rule = _engine.Rules.Rules.FirstOrDefault(r => r.Name == suspension.Rule);
        var incident = _open.GetOrAdd(suspension.Identity, static (_, s) => Provisional(s), suspension);
        lock (incident)
        {
            incident.AutoReleaseAt = rule?.ReleaseAfter is { } after ? suspension.Since + after : null;
            for (var i = 0; i < counts.Length && i < _engine.Rules.Rules.Count; i++)
            {
                var r = _engine.Rules.Rules[i];
                if (counts[i] >= 0 && r.Scope == suspension.Identity.Scope)
                {
                    var max = decision is { Rule: { } decisive } d && decisive == r ? d.Max : r.MaxFor(suspension.Identity.Key);
                    incident.Evidence.Counters.Add(new CounterValue(r.Name, r.UnitText, counts[i], max, r.WindowText));
                }
            }

            incident.Timeline.Add(new IncidentEvent(suspension.Since, "suspended", suspension.By,
                suspension.Reason + (incident.AutoReleaseAt is { } at ? $"; released automatically at {at:u}" : "; until an admin releases it")));
            if (submission is { } s && incident.Evidence.FirstSubmission is null)
            {
                incident.Evidence.FirstSubmission = s.Time;
            }
        }

        // Rare (once per suspension) and as durable as the suspension: written here, on the decision path.
        _incidents.AddAsync(incident).GetAwaiter().GetResult();
        if (announce)
        {
            Announce(incident);
        }

        return incident;
    }

    private void Announce(Incident incident)
    {
        foreach (var alerts in _alerts)
        {
            alerts.Opened(incident);
        }
    }

    private async Task<string?> PostfixAsync(string program, string action, List<string> queueIds)
    {
        var arguments = new List<string>();
        if (_options.PostfixConfigDirectory is { } dir)
        {
            arguments.AddRange(["-c", dir]);
        }

        // postsuper reads the queue ids from standard input with "-".
        arguments.Add(action);
        if (queueIds.Count > 0)
        {
            arguments.Add("-");
        }

        try
        {
            var start = new ProcessStartInfo(program)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            await process.StandardInput.WriteAsync(string.Join('\n', queueIds) + "\n");
            process.StandardInput.Close();
            var error = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return process.ExitCode == 0 ? null : $"{program} {action} exited {process.ExitCode}: {(await error).Trim()}";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or OperationCanceledException or IOException)
        {
            return $"{program} {action} failed: {e.Message}";
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RELEASED {Identity} by {By}: {Detail}")]
    private partial void LogReleased(string identity, string by, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay: the next hop refused {Count} recipients of mail counted against {Identity}")]
    private partial void LogRefusedByNextHop(string identity, int count);
}
