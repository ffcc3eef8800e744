namespace Floodgate.Configuration;

/// <summary>What a listener answers when Floodgate fails inside a decision.</summary>
public enum FailMode
{
    /// <summary>Let mail through (Postfix: DUNNO).</summary>
    Open,

    /// <summary>Ask the client to retry later (Postfix: DEFER_IF_PERMIT).</summary>
    Closed,
}
