using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Floodgate.Tests.Postfix;

/// <summary>Sends mail the way a mail client or a spam bot with a stolen password does: MailKit over SMTP.</summary>
internal static class Mail
{
    public static MimeMessage Message(string from, IEnumerable<string> to, string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        foreach (var rcpt in to)
        {
            message.To.Add(MailboxAddress.Parse(rcpt));
        }

        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = $"{subject}\n" };
        return message;
    }

    /// <summary>Sends messages over one connection, authenticated when a login is given; returns how many Postfix accepted.</summary>
    public static async Task<int> SendAsync(int port, string? login, string? password, IEnumerable<MimeMessage> messages, string? from = null)
    {
        using var client = new SmtpClient();
        if (from is not null)
        {
            // Another loopback address stands for a client elsewhere (a mail server on the Internet).
            client.LocalEndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(from), 0);
        }

        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
        if (login is not null)
        {
            await client.AuthenticateAsync(login, password ?? "");
        }

        var accepted = 0;
        foreach (var message in messages)
        {
            try
            {
                await client.SendAsync(message);
                accepted++;
            }
            catch (SmtpCommandException)
            {
                // A refused message (4xx/5xx): the connection stays usable for the next one.
            }
        }

        await client.DisconnectAsync(quit: true);
        return accepted;
    }
}
