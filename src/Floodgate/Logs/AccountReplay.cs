namespace Floodgate.Logs;

/// <summary>One account's replayed traffic: its peaks, what was accepted and refused, and when each limit first acted.</summary>
public sealed class AccountReplay(string name, PeakTracker peaks)
{
    public string Name { get; } = name;

    public PeakTracker Peaks { get; } = peaks;

    public long Accepted { get; set; }

    public long Refused { get; set; }

    public DateTimeOffset? SuspendedAt { get; set; }

    /// <summary>Times the account went on probation, and messages its probations held and then released by themselves.</summary>
    public int Probations { get; set; }

    public long ReleasedByProbation { get; set; }

    /// <summary>Each rule that acted: when first, after how many accepted messages, and with which verdict.</summary>
    public Dictionary<string, (DateTimeOffset At, long AcceptedBefore, string Verdict)> FirstActed { get; } = new(StringComparer.Ordinal);
}
