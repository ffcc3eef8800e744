namespace Floodgate.Engine;

/// <summary>What happens to a message that would take a counter over its limit.</summary>
public enum LimitAction
{
    Defer,
    Hold,
    Reject,

    /// <summary>Suspend the identity; the message gets the configured suspended verdict.</summary>
    Suspend,
}
