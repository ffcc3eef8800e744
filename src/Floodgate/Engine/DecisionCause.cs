namespace Floodgate.Engine;

/// <summary>Why the engine answered what it did.</summary>
public enum DecisionCause
{
    /// <summary>Every limit had room; the message was counted (or, at check stage, would fit).</summary>
    WithinLimits,

    /// <summary>The account is exempt from limits; nothing was counted.</summary>
    Exempt,

    /// <summary>A limit would have been exceeded; nothing was counted.</summary>
    LimitExceeded,

    /// <summary>The message has more recipients than one message may have (max_recipients_per_message); nothing was counted.</summary>
    TooManyRecipients,

    /// <summary>The identity was already suspended; nothing was counted.</summary>
    Suspended,

    /// <summary>The shared store (Redis) is unavailable and the deployment fails closed: the client is asked to retry.</summary>
    StoreUnavailable,

    /// <summary>Floodgate failed inside the decision; the verdict is the configured fail mode's.</summary>
    Failed,

    /// <summary>The account is on probation: its behaviour is far from its profile, so its new mail is held until the score falls back.</summary>
    Probation,

    /// <summary>The account's behaviour score passed the suspension threshold (or stayed high through its probation): it was suspended.</summary>
    Behaviour,
}
