using System.Globalization;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Floodgate.Alerts;

/// <summary>Sends each alert as a plain-text mail through the configured SMTP server (MailKit), never through the held queue.</summary>
public sealed class EmailAlertChannel(EmailAlertOptions options, TimeProvider time) : IAlertChannel
{
    public string Name { get; } = $"email to {string.Join(", ", options.To)} via {options.Host}:{options.Port}";

    public async Task SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        var message = Compose(alert);
        using var client = new SmtpClient { Timeout = (int)Math.Min(int.MaxValue, options.Timeout.TotalMilliseconds) };
        var tls = options.Tls switch
        {
            EmailTls.StartTls => SecureSocketOptions.StartTls,
            EmailTls.Implicit => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.None,
        };
        var step = "connect";
        try
        {
            await client.ConnectAsync(options.Host, options.Port, tls, cancellationToken);
            if (options.Username is { } username)
            {
                step = $"log in as {username}";
                await client.AuthenticateAsync(username, options.Password ?? "", cancellationToken);
            }

            step = "send";
            await client.SendAsync(message, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var what = e switch
            {
                AuthenticationException => "the server refused the login",
                SmtpCommandException command => $"the server answered {(int)command.StatusCode}",
                ServiceNotAuthenticatedException => "the server requires a login (set alerts.email.username and password)",
                _ => e.GetType().Name,
            };

            // Only the server's words and ours: MailKit's messages carry no credentials, and the dispatcher redacts anyway.
            throw new AlertDeliveryException($"SMTP {options.Host}:{options.Port} ({step}): {what}: {OneLine(e.Message)}");
        }

        try
        {
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The server has taken the message; a QUIT that goes wrong does not make it undelivered.
        }
    }

    private MimeMessage Compose(Alert alert)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Floodgate", options.From));
        foreach (var to in options.To)
        {
            message.To.Add(MailboxAddress.Parse(to));
        }

        message.Subject = alert.Subject;
        message.Date = time.GetUtcNow();

        // RFC 3834: an automatic message; vacation responders and mailing lists leave it alone.
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Headers.Add("X-Floodgate-Event", alert.EventName);
        if (alert.Incident is { } incident)
        {
            message.Headers.Add("X-Floodgate-Incident", incident.Id.ToString(CultureInfo.InvariantCulture));
        }

        message.Body = new TextPart(MimeKit.Text.TextFormat.Plain) { Text = alert.Text };
        return message;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
