using System.Net.Sockets;
using MailKit.Net.Smtp;
using MailKit.Security;
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

    /// <summary>Connects like <see cref="SmtpClient.ConnectAsync(string, int, SecureSocketOptions, CancellationToken)"/>, over a socket with Nagle's algorithm off.</summary>
    public async Task ConnectWithoutDelayAsync(string host, int port, SecureSocketOptions tls, CancellationToken cancellationToken)
    {
        // MailKit writes the message and the closing "." in separate sends; with Nagle on, the small last one waits for
        // the next hop's delayed ACK (40 ms on Linux), capping each connection near 20 messages a second.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            await socket.ConnectAsync(host, port, timeout.Token);
            await ConnectAsync(socket, host, port, tls, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

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
