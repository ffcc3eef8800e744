namespace Floodgate.Alerts;

/// <summary>How the alert mail's SMTP connection is protected.</summary>
public enum EmailTls
{
    /// <summary>Plain SMTP, for a mail server on the same machine or network.</summary>
    None = 0,

    /// <summary>Plain connect, then STARTTLS before anything else is sent; fails if the server does not offer it.</summary>
    StartTls = 1,

    /// <summary>TLS from the first byte (SMTPS, usually port 465).</summary>
    Implicit = 2,
}
