namespace Floodgate.Engine;

/// <summary>The identity a limit rule counts by.</summary>
public enum Scope
{
    /// <summary>The SASL login, or the configured fallback when the client did not authenticate.</summary>
    Account = 0,

    /// <summary>The envelope sender address, lower-cased.</summary>
    Sender = 1,

    /// <summary>The domain of the envelope sender, lower-cased.</summary>
    SenderDomain = 2,

    /// <summary>The SMTP client's IP address.</summary>
    ClientIp = 3,
}
