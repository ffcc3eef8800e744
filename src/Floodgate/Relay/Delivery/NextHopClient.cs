using MailKit.Net.Smtp;
using MimeKit;

namespace Floodgate.Relay.Delivery;

/// <summary>
/// MailKit's SMTP client, told to collect the next hop's per-recipient refusals (MailKit throws on the first by
/// default) and to send the stored message as it is.
/// </summary>
internal sealed class NextHopClient : SmtpClient
{
    private readonly List<(MailboxAddress Mailbox, SmtpResponse Response)> _refused = [];

    /// <summary>The recipients the next hop refused in the last transaction, with its answers.</summary>
    public IReadOnlyList<(MailboxAddress Mailbox, SmtpResponse Response)> Refused => _refused;

    /// <summary>When the connection last carried a command, to decide whether to probe it before reuse.</summary>
    public DateTimeOffset LastUsed { get; set; }

    public void BeginTransaction() => _refused.Clear();

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        _refused.Add((mailbox, response));

    // A relay passes content on untouched. MimeKit's Prepare may add or change Content-Transfer-Encoding headers;
    // only a next hop without 8BITMIME needs that (RFC 6152 asks the relay to convert 8-bit content or return it).
    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
        if (constraint == EncodingConstraint.SevenBit)
        {
            base.Prepare(options, message, constraint, maxLineLength);
        }
    }
}
