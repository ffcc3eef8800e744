namespace Floodgate.Engine;

/// <summary>
/// What a limit rule counts. A message of S bytes to N recipients, E of them outside <see cref="RuleSet.LocalDomains"/>
/// and U of them not written to in the window, is one message, N recipients, E external recipients, U unique recipients
/// and S bytes (counted in KiB, each message rounded up, so a window's slots hold terabytes; <see cref="LimitRule.Max"/>
/// is then in KiB too). Failed recipients are counted when the outcome is known (a next hop's 5xx, a log's bounce),
/// not when the message is decided: once the window holds the maximum, the identity's next message is refused.
/// </summary>
public enum LimitUnit
{
    Messages,
    Recipients,
    Bytes,

    /// <summary>Distinct recipient addresses in the window, exact up to the limit (<see cref="LimitRule.TrackedMax"/>).</summary>
    UniqueRecipients,

    /// <summary>Recipients whose domain is not in <see cref="RuleSet.LocalDomains"/> (an unknown address counts as external).</summary>
    ExternalRecipients,

    /// <summary>Recipients that failed for good (5xx), counted as the outcome becomes known.</summary>
    FailedRecipients,
}
