using System.Collections.Concurrent;
using System.Text;
using Floodgate.Alerts;
using Floodgate.Engine;

namespace Floodgate.Incidents;

/// <summary>
/// The incidents of the containment ladder: opens one per suspension (with evidence, and an alert), adds what the
/// suspended identity keeps trying to its evidence, and closes it when the identity is released. Evidence is written
/// in batches, off the decision path.
/// </summary>
public sealed partial class IncidentBook
{
    // A sample is enough to show what the account was sending; alerts and the API list it.
    private const int MaxSubjects = 20;

    private readonly IAccountStore _accounts;
    private readonly IIncidentStore _incidents;
    private readonly IAuditLog _audit;
    private readonly IIncidentAlerts[] _alerts;
    private readonly RuleSet _rules;
    private readonly TimeProvider _time;
    private readonly ILogger<IncidentBook> _logger;
    private readonly ConcurrentDictionary<Identity, Incident> _open = new();
    private readonly ConcurrentDictionary<Incident, byte> _dirty = new(ReferenceEqualityComparer.Instance);

    // Incidents opened on the decision path, not yet stored; true once their evidence is in and they may be announced.
    private readonly ConcurrentDictionary<Incident, bool> _unstored = new(ReferenceEqualityComparer.Instance);
    private readonly Storage.StoreHealth? _health;
    private readonly ConcurrentDictionary<string, Incident> _floods = new(StringComparer.Ordinal);
    private readonly System.Threading.Channels.Channel<bool> _opened = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
    private int _flushing;
    // Observe mode's would-have suspensions: each identity's latest observe-only incident, until its limit's window ends.
    private readonly Dictionary<Identity, (Incident Incident, DateTimeOffset Until)> _observed = [];

    public IncidentBook(IAccountStore accounts, IIncidentStore incidents, IAuditLog audit, IEnumerable<IIncidentAlerts> alerts,
        RuleSet rules, TimeProvider time, ILogger<IncidentBook> logger, Storage.StoreHealth? health = null)
    {
        _health = health;
        _logger = logger;
        _accounts = accounts;
        _incidents = incidents;
        _audit = audit;
        _alerts = [.. alerts];
        _rules = rules;
        _time = time;
    }

    /// <summary>Incidents not yet closed.</summary>
    public IReadOnlyCollection<Incident> OpenIncidents => [.. _open.Values.Distinct(ReferenceEqualityComparer.Instance).Cast<Incident>().OrderBy(i => i.Id)];

    /// <summary>At most this many identities share one incident of a flood without a login from untrusted clients; the next opens another.</summary>
    public const int MaxGrouped = 10_000;

    public Incident? OpenIncidentOf(Identity identity) => _open.TryGetValue(identity, out var incident) ? incident : null;

    /// <summary>Reads open incidents back from the store (at start).</summary>
    public Task LoadAsync() => SyncIncidentsAsync();

    /// <summary>
    /// Takes in the store's open incidents and drops those it has closed: in a cluster, another node may have opened
    /// or closed them. An incident this node keeps evidence in stays the same object.
    /// </summary>
    public async Task SyncIncidentsAsync()
    {
        var stored = new Dictionary<Identity, Incident>();
        foreach (var incident in await _incidents.ListAsync(openOnly: true, int.MaxValue))
        {
            stored[incident.Identity] = incident;
            foreach (var grouped in incident.Evidence.Grouped)
            {
                stored.TryAdd(grouped, incident);
            }
        }

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

    /// <summary>
    /// Looks at one decision: a new suspension opens an incident; a refusal of a suspended identity adds to its
    /// evidence. Accepted mail costs one comparison. Observe mode's would-have suspension records an observe-only
    /// incident instead: the first one for an identity in the suspending limit's window (closed from the start:
    /// nobody is suspended, no mail is held) alerts once, marked observe only; later ones in that window add to it.
    /// </summary>
    public void Observe(in Submission submission, in Decision decision, DecisionStage stage, ReadOnlySpan<byte> recipient,
        ReadOnlySpan<long> counts)
    {
        if ((decision.Verdict == Verdict.Accept && !decision.WouldSuspend) || decision.Suspension is not { } suspension)
        {
            return;
        }

        // Other connections see the suspension while its incident is still being written: they add their evidence
        // to the same incident object, which the suspending decision then fills in and stores.
        // A flood of identities that may be forged (no login, an untrusted client) over the same rule is one incident and
        // one alert per window, not one each.
        var forgeable = !submission.HasLogin && submission.Trust == ClientTrust.Untrusted;
        Incident? opened = null;
        var observed = false;
        Incident incident;
        if (decision.WouldSuspend)
        {
            incident = WouldHaveSuspended(suspension, submission, decision, counts, out observed);
        }
        else
        {
            if (decision.NewlySuspended && !forgeable)
            {
                opened = Open(suspension, submission, decision, counts, store: false);
            }
            else if (decision.NewlySuspended)
            {
                // One at a time, so two connections' forged identities cannot open two floods' incidents at once.
                lock (_floods)
                {
                    if (!JoinFlood(suspension))
                    {
                        opened = Open(suspension, submission, decision, counts, store: false);
                        if (suspension.Rule is { } rule)
                        {
                            _floods[rule] = opened;
                        }
                    }
                }
            }

            incident = opened ?? _open.GetOrAdd(suspension.Identity, static (_, s) => Provisional(s), suspension);
        }

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
            // The request's own recipient, unless the submission names its recipients (then it is among them).
            var at = submission.Recipients is null ? recipient.LastIndexOf((byte)'@') : -1;
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

            if (submission.Subject is { } subject && evidence.Subjects.Count < MaxSubjects && !evidence.Subjects.Contains(subject))
            {
                evidence.Subjects.Add(subject);
            }

            // A sample for the admin to look at; release finds every held message through the held-mail ledger.
            if (submission.QueueId is { } id && evidence.QueueIds.Count < IncidentEvidence.MaxListed
                && (evidence.QueueIds.Count == 0 || evidence.QueueIds[^1] != id))
            {
                evidence.QueueIds.Add(id);
            }

            if (!submission.HasLogin)
            {
                evidence.WithoutLogin++;
            }
        }

        _dirty[incident] = 0;
        if (opened is not null)
        {
            // Stored and announced by the keeper at once, off this connection's thread.
            _unstored[opened] = true;
            _opened.Writer.TryWrite(true);
        }

        if (observed)
        {
            foreach (var alerts in _alerts)
            {
                alerts.Observed(incident);
            }
        }
    }

    /// <summary>
    /// Observe-only incidents whose window has not ended: the identities that would have been suspended lately.
    /// </summary>
    public IReadOnlyList<Incident> ObservedIncidents
    {
        get
        {
            var now = _time.GetUtcNow();
            lock (_observed)
            {
                return [.. _observed.Values.Where(o => o.Until > now).Select(o => o.Incident).OrderByDescending(i => i.Id)];
            }
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
        var incident = Open(suspension, null, null, [], store: true);
        Announce(incident);
        return incident;
    }

    /// <summary>
    /// Closes <paramref name="identity"/>'s open incident (this node's, or the store's: in a cluster another node may
    /// have opened it) with how it ended; returns it, or null when it had none.
    /// </summary>
    public async Task<Incident?> CloseAsync(Identity identity, string resolution, string by, string detail)
    {
        var now = _time.GetUtcNow();
        _open.TryRemove(identity, out var incident);
        incident ??= await StoredOpenIncidentAsync(identity);
        if (incident is null)
        {
            return null;
        }

        List<Identity> grouped;
        lock (incident)
        {
            grouped = [.. incident.Evidence.Grouped, incident.Identity];
            incident.ClosedAt = now;
            incident.ClosedBy = by;
            incident.Resolution = resolution;
            incident.Timeline.Add(new IncidentEvent(now, resolution, by, detail));
        }

        _dirty.TryRemove(incident, out _);
        foreach (var member in grouped)
        {
            _open.TryRemove(new KeyValuePair<Identity, Incident>(member, incident));
        }

        await _incidents.SaveAsync(incident);
        foreach (var alerts in _alerts)
        {
            alerts.Closed(incident);
        }

        return incident;
    }

    /// <summary>Drops <paramref name="identity"/>'s incident from this node's open ones without closing it (another node did).</summary>
    public void Forget(Identity identity)
    {
        if (_open.TryRemove(identity, out var incident))
        {
            _dirty.TryRemove(incident, out _);
        }
    }

    /// <summary>Open incidents whose suspension time is up, for an automatic release.</summary>
    public IReadOnlyList<Incident> DueForRelease(DateTimeOffset now) => [.. OpenIncidents.Where(i => i.AutoReleaseAt is { } at && at <= now)];

    /// <summary>Adds an alert's delivery to its incident's timeline.</summary>
    public void RecordAlerted(long incidentId, string channel, string detail)
    {
        var incident = _open.Values.FirstOrDefault(i => i.Id == incidentId) ?? ObservedById(incidentId);
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

    /// <summary>Waits until a decision opens an incident (which <see cref="FlushAsync"/> then stores and announces).</summary>
    public ValueTask<bool> WaitForOpenedAsync(CancellationToken stop) => _opened.Reader.ReadAsync(stop);

    /// <summary>
    /// Stores (and announces) the incidents opened since the last flush, then writes the evidence gathered; a flush
    /// already under way does it instead (what it missed goes in the next).
    /// </summary>
    public async Task FlushAsync()
    {
        if (Interlocked.CompareExchange(ref _flushing, 1, 0) != 0)
        {
            return;
        }

        try
        {
            await FlushNowAsync();
        }
        finally
        {
            Volatile.Write(ref _flushing, 0);
        }
    }

    private async Task FlushNowAsync()
    {
        foreach (var (incident, ready) in _unstored)
        {
            if (!ready)
            {
                continue;
            }

            try
            {
                await _incidents.AddAsync(incident);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Kept for the next flush; the suspension holds from memory meanwhile.
                _health?.Failed("incidents", e);
                break;
            }

            _unstored.TryRemove(incident, out _);
            _health?.Succeeded("incidents");
            if (incident.IsOpen)
            {
                Announce(incident);
            }
        }

        foreach (var incident in _dirty.Keys)
        {
            // An incident still being opened has no id yet: it is saved on a later flush.
            if (incident.Id != 0 && _dirty.TryRemove(incident, out _))
            {
                await _incidents.SaveAsync(incident);
            }
        }
    }

    // Adds a newly suspended identity without a login to the open flood incident of its rule, if one opened within the
    // rule's window and has room; false when it needs an incident of its own.
    private bool JoinFlood(Suspension suspension)
    {
        if (suspension.Rule is not { } name || !_floods.TryGetValue(name, out var flood) || _rules.Rules.FirstOrDefault(r => r.Name == name) is not { } rule)
        {
            return false;
        }

        lock (flood)
        {
            if (!flood.IsOpen || suspension.Since - flood.OpenedAt > rule.Window || flood.Evidence.Grouped.Count >= MaxGrouped)
            {
                return false;
            }

            flood.Evidence.Grouped.Add(suspension.Identity);
            flood.Timeline.Add(new IncidentEvent(suspension.Since, "grouped", suspension.By, $"{suspension.Identity} also suspended: {suspension.Reason}"));
        }

        _open[suspension.Identity] = flood;
        _dirty[flood] = 0;
        return true;
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

    private Incident? ObservedById(long id)
    {
        lock (_observed)
        {
            return _observed.Values.Select(o => o.Incident).FirstOrDefault(i => i.Id == id);
        }
    }

    // The observe-only incident a would-have suspension adds to: this window's, or a new one (stored at once, so its
    // id is known before the alert names it; rare: once per identity and window).
    private Incident WouldHaveSuspended(Suspension suspension, in Submission submission, in Decision decision, ReadOnlySpan<long> counts, out bool opened)
    {
        var window = _rules.Rules.FirstOrDefault(r => r.Name == suspension.Rule)?.Window ?? TimeSpan.FromHours(1);
        var now = submission.Time;
        opened = false;
        (Incident Incident, DateTimeOffset Until) known;
        lock (_observed)
        {
            if (!_observed.TryGetValue(suspension.Identity, out known) || known.Until <= now)
            {
                if (_observed.Count >= 1024)
                {
                    foreach (var stale in _observed.Where(o => o.Value.Until <= now).Select(o => o.Key).ToList())
                    {
                        _observed.Remove(stale);
                    }
                }

                known = (WouldHaveBeen(suspension, submission, decision, counts), suspension.Since + window);
                _observed[suspension.Identity] = known;
                opened = true;
            }
        }

        if (opened)
        {
            try
            {
                _incidents.AddAsync(known.Incident).GetAwaiter().GetResult();
            }
            catch
            {
                // Not stored, so never alerted: the next would-have suspension of this identity tries again.
                lock (_observed)
                {
                    _observed.Remove(suspension.Identity);
                }

                throw;
            }

            LogWouldSuspend(suspension.Identity.ToString(), suspension.Rule ?? "-", suspension.Reason);
        }

        return known.Incident;
    }

    private Incident WouldHaveBeen(Suspension suspension, in Submission submission, in Decision decision, ReadOnlySpan<long> counts)
    {
        var incident = new Incident
        {
            Identity = suspension.Identity,
            Rule = suspension.Rule,
            Reason = suspension.Reason,
            OpenedAt = suspension.Since,
            ClosedAt = suspension.Since,
            ClosedBy = "floodgate",
            Resolution = Incident.ObservedResolution,
        };
        AddCounters(incident, suspension, decision, counts);
        incident.Timeline.Add(new IncidentEvent(suspension.Since, "would-suspend", suspension.By,
            suspension.Reason + "; observe mode: nobody was suspended and no mail held"));
        incident.Evidence.FirstSubmission = submission.Time;
        incident.Evidence.LoginInvolved = submission.HasLogin;
        return incident;
    }

    private static Incident Provisional(Suspension suspension) => new()
    {
        Identity = suspension.Identity,
        Rule = suspension.Rule,
        Reason = suspension.Reason,
        OpenedAt = suspension.Since,
    };

    private Incident Open(Suspension suspension, Submission? submission, Decision? decision, ReadOnlySpan<long> counts, bool store)
    {
        var rule = _rules.Rules.FirstOrDefault(r => r.Name == suspension.Rule);
        var incident = _open.GetOrAdd(suspension.Identity, static (_, s) => Provisional(s), suspension);
        lock (incident)
        {
            incident.AutoReleaseAt = rule?.ReleaseAfter is { } after ? suspension.Since + after : null;
            AddCounters(incident, suspension, decision, counts);
            incident.Timeline.Add(new IncidentEvent(suspension.Since, "suspended", suspension.By,
                suspension.Reason + (incident.AutoReleaseAt is { } at ? $"; released automatically at {at:u}" : "; until an admin releases it")));
            if (submission is { } s)
            {
                incident.Evidence.FirstSubmission ??= s.Time;
                incident.Evidence.LoginInvolved = s.HasLogin;
            }
        }

        // By hand: stored at once (the admin gets its id). From a decision: by the next flush, off the decision path.
        if (store)
        {
            _incidents.AddAsync(incident).GetAwaiter().GetResult();
        }
        else
        {
            _unstored.TryAdd(incident, false);
        }

        return incident;
    }

    private void AddCounters(Incident incident, Suspension suspension, Decision? decision, ReadOnlySpan<long> counts)
    {
        for (var i = 0; i < counts.Length && i < _rules.Rules.Count; i++)
        {
            var r = _rules.Rules[i];
            if (counts[i] >= 0 && r.Scope == suspension.Identity.Scope)
            {
                var max = decision is { Rule: { } decisive } d && decisive == r ? d.Max : r.MaxFor(suspension.Identity.Key);
                incident.Evidence.Counters.Add(new CounterValue(r.Name, r.UnitText, counts[i], max, r.WindowText));
            }
        }
    }

    private void Announce(Incident incident)
    {
        foreach (var alerts in _alerts)
        {
            alerts.Opened(incident);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "WOULD HAVE SUSPENDED {Identity} by rule {Rule} (observe mode, nothing enforced): {Reason}")]
    private partial void LogWouldSuspend(string identity, string rule, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay: the next hop refused {Count} recipients of mail counted against {Identity}")]
    private partial void LogRefusedByNextHop(string identity, int count);
}
