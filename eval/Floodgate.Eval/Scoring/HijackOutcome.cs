using Floodgate.Eval.Corpus;

namespace Floodgate.Eval.Scoring;

/// <summary>
/// What became of one hijacked account's spam: how much was sent and delivered (accepted, or held by probation and
/// released), and when the account was suspended, if it was (before the hijack started: a false suspension held it).
/// </summary>
public sealed record HijackOutcome(string Account, Archetype Archetype, DateTimeOffset Start, int SpamSent, int SpamRecipients,
    int SpamDelivered, int SpamRecipientsDelivered, DateTimeOffset? SuspendedAt)
{
    public bool Contained => SuspendedAt is not null;

    /// <summary>True when the account was already suspended when the spam started (for legitimate mail).</summary>
    public bool SuspendedBeforeStart => SuspendedAt < Start;
}
