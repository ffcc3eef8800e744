using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Utils;

namespace Floodgate.Relay.Delivery;

/// <summary>Writes RFC 3464 delivery status notifications for recipients that could not be delivered.</summary>
internal static partial class DeliveryReport
{
    /// <summary>The RFC 3463 status of an SMTP answer: its enhanced code when it gives one, else one from its class.</summary>
    public static string Status(int code, string answer)
    {
        var match = EnhancedCode().Match(answer);
        if (match.Success && match.Value[0] - '0' == code / 100)
        {
            return match.Value;
        }

        return code / 100 == 5 ? "5.0.0" : "4.0.0";
    }

    /// <summary>The multipart/report returned to <paramref name="original"/>'s sender.</summary>
    public static MimeMessage Compose(
        SpooledMessage original, IReadOnlyList<ReportedRecipient> recipients, string reason, byte[] originalHeaders, string hostname, DateTimeOffset now)
    {
        var report = new MimeMessage();
        report.From.Add(new MailboxAddress("Mail Delivery System", $"MAILER-DAEMON@{hostname}"));
        report.To.Add(new MailboxAddress("", original.Sender));
        report.Subject = "Undelivered Mail Returned to Sender";
        report.Date = now;
        report.MessageId = MimeUtils.GenerateMessageId(hostname);

        // RFC 3834: an automatic answer; responders must not answer it in turn.
        report.Headers.Add("Auto-Submitted", "auto-replied");
        if (original.MessageId is { Length: > 0 } messageId)
        {
            report.InReplyTo = messageId;
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"This is the mail system at host {hostname}.\n\n");
        text.Append(CultureInfo.InvariantCulture, $"Your message could not be delivered to one or more recipients: {reason}.\n\n");
        foreach (var recipient in recipients)
        {
            text.Append(CultureInfo.InvariantCulture, $"<{recipient.Recipient}>: {recipient.Diagnostic ?? reason}\n");
        }

        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList
        {
            { "Reporting-MTA", $"dns; {hostname}" },
            { "Arrival-Date", DateUtils.FormatDate(original.ReceivedAt) },
        };
        status.StatusGroups.Add(perMessage);
        foreach (var recipient in recipients)
        {
            var group = new HeaderList
            {
                { "Final-Recipient", $"rfc822; {recipient.Recipient}" },
                { "Action", "failed" },
                { "Status", recipient.Status },
            };
            if (recipient.Diagnostic is { } diagnostic)
            {
                group.Add("Diagnostic-Code", $"smtp; {diagnostic}");
            }

            status.StatusGroups.Add(group);
        }

        var headers = new MimePart("text", "rfc822-headers")
        {
            Content = new MimeContent(new MemoryStream(originalHeaders, writable: false)),
            ContentTransferEncoding = originalHeaders.Any(b => b >= 0x80) ? ContentEncoding.EightBit : ContentEncoding.SevenBit,
        };

        report.Body = new MultipartReport("delivery-status")
        {
            new TextPart(MimeKit.Text.TextFormat.Plain) { Text = text.ToString() },
            status,
            headers,
        };
        return report;
    }

    /// <summary>The header block of a stored message (up to its blank line), for the report's text/rfc822-headers part.</summary>
    public static async Task<byte[]> ReadHeadersAsync(Stream content, CancellationToken cancellationToken)
    {
        // Enough for any sane header block; a report quotes headers, it need not carry a pathological one whole.
        var buffer = new byte[256 * 1024];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await content.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            var from = Math.Max(0, length - 3);
            length += read;
            var end = buffer.AsSpan(from, length - from).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return buffer[..(from + end + 2)];
            }
        }

        return buffer[..length];
    }

    [GeneratedRegex(@"^[245]\.\d{1,3}\.\d{1,3}(?=\s|$)")]
    private static partial Regex EnhancedCode();
}
