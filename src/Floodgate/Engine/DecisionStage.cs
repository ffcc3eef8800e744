namespace Floodgate.Engine;

/// <summary>Whether a decision counts the message or only checks it.</summary>
public enum DecisionStage
{
    /// <summary>Once per message (Postfix DATA or END-OF-MESSAGE, relay after DATA): accepted mail is counted.</summary>
    Count,

    /// <summary>Before the message is known (Postfix RCPT): enforce suspension and exhausted limits, count nothing.</summary>
    Check,
}
