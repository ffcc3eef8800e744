namespace Floodgate.Behaviour;

/// <summary>The behaviour section of floodgate.yml: whether each account's profile is watched, and when it acts.</summary>
/// <param name="Enabled">Whether profiles are learned and scored at all.</param>
/// <param name="ProbationAt">The score at which an account goes on probation: its new mail is held.</param>
/// <param name="SuspendAt">The score at which an account is suspended outright.</param>
/// <param name="Probation">The least time an account stays on probation; after it, probation ends once the score is back under <paramref name="ProbationAt"/>.</param>
/// <param name="EscalateAfter">An account still scoring over <paramref name="ProbationAt"/> this long after its probation began is suspended.</param>
/// <param name="MinMessages">Messages a profile must have learned before it is scored (until then the static limits alone apply).</param>
/// <param name="MinDays">Days between a profile's first and last learned message before it is scored.</param>
/// <param name="MaxAccounts">The most profiles kept (about 1.8 KB each); past it the least recently seen are forgotten.</param>
/// <param name="SaveInterval">How often changed profiles are written to the store.</param>
public sealed record BehaviourOptions(
    bool Enabled = true,
    double ProbationAt = 8,
    double SuspendAt = 16,
    TimeSpan? Probation = null,
    TimeSpan? EscalateAfter = null,
    int MinMessages = 20,
    int MinDays = 5,
    int MaxAccounts = 100_000,
    TimeSpan? SaveInterval = null)
{
    /// <summary>The least time on probation (default 1h).</summary>
    public TimeSpan ProbationTime => Probation ?? TimeSpan.FromHours(1);

    /// <summary>How long a probation may stay high before it becomes a suspension (default 4h).</summary>
    public TimeSpan EscalateTime => EscalateAfter ?? TimeSpan.FromHours(4);

    /// <summary>How often changed profiles are saved (default 30s).</summary>
    public TimeSpan SaveEvery => SaveInterval ?? TimeSpan.FromSeconds(30);
}
