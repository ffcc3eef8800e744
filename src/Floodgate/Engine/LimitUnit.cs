namespace Floodgate.Engine;

/// <summary>What a limit rule counts: a message to N recipients is one message and N recipients.</summary>
public enum LimitUnit
{
    Messages,
    Recipients,
}
