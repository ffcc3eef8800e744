namespace Floodgate.Relay;

/// <summary>Where an SMTP session is in its dialogue.</summary>
public enum SmtpState
{
    /// <summary>Connected (or just switched to TLS): EHLO or HELO comes first.</summary>
    Connected,

    /// <summary>Greeted, no transaction open.</summary>
    Ready,

    /// <summary>MAIL FROM accepted, no recipient yet.</summary>
    Mail,

    /// <summary>At least one recipient accepted: DATA may follow.</summary>
    Recipients,
}
