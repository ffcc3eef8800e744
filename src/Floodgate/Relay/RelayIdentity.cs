namespace Floodgate.Relay;

/// <summary>Who a relayed message is counted against.</summary>
public enum RelayIdentity
{
    /// <summary>The login the mail server authenticated with, else the envelope sender (for servers that log in per user).</summary>
    Login,

    /// <summary>Always the envelope sender (for servers that relay everything with one shared login).</summary>
    Sender,
}
