namespace Floodgate.Alerts;

/// <summary>How often a failed alert is tried again on one channel: the delay doubles after every failure.</summary>
public sealed record AlertRetryOptions
{
    /// <summary>Attempts in all, the first included.</summary>
    public int Attempts { get; init; } = 6;

    /// <summary>The wait after the first failure; then twice that, four times... (5s, 10s, 20s...).</summary>
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromSeconds(5);
}
