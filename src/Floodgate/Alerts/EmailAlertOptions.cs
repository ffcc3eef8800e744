namespace Floodgate.Alerts;

/// <summary>Alert mail: who gets it, who it is from, and the SMTP server it is sent through.</summary>
public sealed record EmailAlertOptions
{
    public required IReadOnlyList<string> To { get; init; }

    public required string From { get; init; }

    public required string Host { get; init; }

    public int Port { get; init; } = 25;

    public EmailTls Tls { get; init; } = EmailTls.None;

    /// <summary>The SMTP login, or null to send without logging in.</summary>
    public string? Username { get; init; }

    /// <summary>The SMTP password; never written to a log, an exception or <see cref="ToString"/>.</summary>
    public string? Password { get; init; }

    /// <summary>How long one SMTP command may take before the attempt counts as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The default port for a TLS mode: 25 plain, 587 STARTTLS (submission), 465 implicit TLS.</summary>
    public static int DefaultPort(EmailTls tls) => tls switch
    {
        EmailTls.StartTls => 587,
        EmailTls.Implicit => 465,
        _ => 25,
    };

    /// <summary>Whether a host name or address is this machine, where plain SMTP and a password in clear stay local.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>Whether a text is one plain mail address (local@domain), as accepted in <c>to</c> and <c>from</c>.</summary>
    public static bool IsAddress(string text) =>
        MimeKit.MailboxAddress.TryParse(text, out var mailbox)
        && mailbox.Address == text.Trim()
        && mailbox.Address.IndexOf('@', StringComparison.Ordinal) is > 0 and var at && at < mailbox.Address.Length - 1;

    // The generated ToString would print the password.
    public override string ToString() =>
        $"email to {string.Join(", ", To)} from {From} via {Host}:{Port} (tls {Tls}{(Username is null ? "" : $", login {Username}")})";
}
