namespace Floodgate.Alerts;

/// <summary>Why an alert is sent; its name is the <c>event</c> field of the JSON and FLOODGATE_EVENT of the hook.</summary>
public enum AlertEvent
{
    /// <summary>An account was suspended and an incident opened: sent once per incident.</summary>
    Suspended = 0,

    /// <summary>The incident is still open after the configured reminder interval.</summary>
    Reminder = 1,

    /// <summary>Floodgate itself needs attention (for example its store is unavailable).</summary>
    System = 2,

    /// <summary>
    /// Observe mode: an identity would have been suspended, nobody was (an observe-only incident); sent once per
    /// identity and window. A hook that acts on accounts must not act on it.
    /// </summary>
    Observed = 3,

    /// <summary>A limit's warn_at share was reached, or a limit with alert: true first acted: nothing was suspended.</summary>
    Warning = 4,
}
