using System.Diagnostics.Metrics;
using Floodgate.Alerts;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Incidents;

namespace Floodgate.Admin;

/// <summary>
/// Floodgate's own instruments on the meter named <see cref="MeterName"/>, which /metrics exports; other parts (the
/// Redis store, the relay) add theirs to a meter of the same name and are exported with these.
/// </summary>
public sealed class FloodgateMetrics
{
    public const string MeterName = "Floodgate";

    private readonly Counter<long> _decisions;
    private readonly Counter<long> _observed;
    private readonly Histogram<double> _decisionSeconds;
    private readonly Counter<long> _suspensions;
    private readonly IReadOnlyList<LimitRule> _rules;
    private readonly Counter<long> _alertsDelivered;
    private readonly Counter<long> _alertsFailed;

    public FloodgateMetrics(IMeterFactory meters, FloodgateOptions options, IAccountStore accounts, IncidentBook containment, PolicyListeners listeners,
        Relay.IOutboundDelivery outbound, Quarantine.RelayQuarantine quarantine, RelayListeners relays, Storage.MemoryCounterStore counters,
        Storage.StoreHealth health)
    {
        _rules = options.Rules.Rules;
        var meter = meters.Create(MeterName);
        _decisions = meter.CreateCounter<long>("floodgate.decisions", "{decision}", "Decisions by listener, verdict and the rule that decided (- within limits)");
        _observed = meter.CreateCounter<long>("floodgate.decisions.observed", "{decision}",
            "Decisions observe mode answered accept, by listener, the verdict enforcing would have given and the rule behind it");
        meter.CreateObservableGauge("floodgate.limits.observed", () => options.Rules.Observed.Count(), "{limit}",
            "Limits in observe mode now (every limit while the whole deployment observes)");

        // A decision takes microseconds; the buckets reach 100 ms so a stalled store still shows.
        _decisionSeconds = meter.CreateHistogram("floodgate.decision.duration", "s", "Time to decide one message, from request parsed to verdict",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005, 0.025, 0.1] });
        _suspensions = meter.CreateCounter<long>("floodgate.suspensions", "{suspension}", "Identities suspended by a limit, by rule (what to alert on)");

        _alertsDelivered = meter.CreateCounter<long>("floodgate.alerts.delivered", "{alert}", "Alerts that reached a channel, by channel and event");
        _alertsFailed = meter.CreateCounter<long>("floodgate.alerts.failed", "{attempt}", "Failed alert attempts, by channel; final=true when the channel gave up");
        meter.CreateObservableGauge("floodgate.accounts.suspended", () => accounts.ListSuspensionsAsync().AsTask().GetAwaiter().GetResult().Count,
            "{account}", "Identities suspended now");
        meter.CreateObservableGauge("floodgate.incidents.open", () => containment.OpenIncidents.Count, "{incident}", "Incidents not yet closed");
        meter.CreateObservableGauge("floodgate.listener.connections",
            () => listeners.Handlers.Select(h => new Measurement<int>(h.Handler.Connections, new KeyValuePair<string, object?>("listener", "policy " + PolicyListeners.NameOf(h.Endpoint, h.Listen))))
                .Concat(relays.Handlers.Select(h => new Measurement<int>(h.Handler.Connections, new KeyValuePair<string, object?>("listener", "relay " + h.Handler.Endpoint)))),
            "{connection}", "Connections open now, per listener");
        meter.CreateObservableGauge("floodgate.quarantine.messages", () => quarantine.Count, "{message}", "Relayed messages held in the quarantine now");
        meter.CreateObservableGauge("floodgate.quarantine.size", () => quarantine.Bytes, "By", "Bytes held in the quarantine now");
        meter.CreateObservableGauge("floodgate.store.degraded", () => health.IsDegraded ? 1 : 0, "{state}",
            "1 while the embedded database refuses writes (a full disk): suspensions are enforced from memory until it takes them");
        meter.CreateObservableGauge("floodgate.counters.identities", () => counters.TrackedIdentities, "{identity}", "Identities with live window counters on this node");
        meter.CreateObservableGauge("floodgate.counters.memory", () => counters.MemoryUsed, "By", "Memory the window counters take (counters.memory_budget bounds it)");
        meter.CreateObservableCounter("floodgate.counters.evicted", () => counters.EvictedTotal, "{identity}",
            "Identities whose counters were forgotten to stay within counters.memory_budget (least recently used, without a login first)");
        meter.CreateObservableGauge("floodgate.outbound.queue", () => outbound.Depth, "{message}", "Relayed messages waiting for (or in) delivery to the next hop");
    }

    /// <summary>
    /// Makes each suspending rule's series exist at 0 (called once the exporter listens), so Prometheus' increase()
    /// sees the first suspension too.
    /// </summary>
    public void Start()
    {
        foreach (var rule in _rules.Where(r => r.Action == LimitAction.Suspend))
        {
            _suspensions.Add(0, new KeyValuePair<string, object?>("rule", rule.Name));
        }
    }

    /// <summary>Counts one decision and its latency; allocation-free for label sets already seen.</summary>
    public void Decided(string listener, in Decision decision, TimeSpan elapsed)
    {
        if (decision.IsObserved)
        {
            // The answer was accept: the decisions series says so, the observed series says what enforcing would have said.
            _decisions.Add(1, new("listener", listener), new("verdict", "accept"), new("rule", "-"));
            _observed.Add(1, new("listener", listener), new("verdict", ScopeNames.Of(decision.Observed)), new("rule", decision.Rule?.Name ?? "-"));
        }
        else
        {
            _decisions.Add(1, new("listener", listener), new("verdict", ScopeNames.Of(decision.Verdict)), new("rule", decision.Rule?.Name ?? "-"));
        }

        _decisionSeconds.Record(elapsed.TotalSeconds);
        if (decision.NewlySuspended)
        {
            _suspensions.Add(1, new KeyValuePair<string, object?>("rule", decision.Rule?.Name ?? "-"));
        }
    }

    /// <summary>Follows an alert dispatcher's deliveries and failures.</summary>
    public void Watch(AlertDispatcher dispatcher)
    {
        dispatcher.Delivered += d => _alertsDelivered.Add(1, new("channel", d.Channel), new("event", d.Event.ToString().ToLowerInvariant()));
        dispatcher.Failed += f => _alertsFailed.Add(1, new("channel", f.Channel), new("final", f.GaveUp ? "true" : "false"));
    }
}
