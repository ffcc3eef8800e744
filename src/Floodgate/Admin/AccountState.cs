using Floodgate.Engine;

namespace Floodgate.Admin;

/// <summary>One account as the admin API shows it: its state and each limit's counter.</summary>
public sealed record AccountState(
    string Account,
    string State,
    DateTimeOffset? Since,
    string? Rule,
    string? Reason,
    string? By,
    long? IncidentId,
    DateTimeOffset? AutoReleaseAt,
    IReadOnlyList<CounterValue> Counters,
    double Utilization);
