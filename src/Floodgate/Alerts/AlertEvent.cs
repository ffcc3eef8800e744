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
}
