namespace Floodgate.Engine;

/// <summary>The engine's answer for one message, ordered from least to most severe.</summary>
public enum Verdict
{
    Accept = 0,
    Defer = 1,
    Hold = 2,
    Reject = 3,
}
