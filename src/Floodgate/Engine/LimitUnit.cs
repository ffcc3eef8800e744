namespace Floodgate.Engine;

/// <summary>
/// What a limit rule counts: a message to N recipients of S bytes is one message, N recipients and S bytes (counted
/// in KiB, each message rounded up, so a window's slots hold terabytes; <see cref="LimitRule.Max"/> is then in KiB too).
/// </summary>
public enum LimitUnit
{
    Messages,
    Recipients,
    Bytes,
}
