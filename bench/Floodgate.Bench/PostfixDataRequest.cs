using System.Globalization;
using System.Text;

namespace Floodgate.Bench;

/// <summary>
/// The policy request Postfix smtpd sends at DATA for an authenticated submission over TLS: every attribute of
/// SMTPD_POLICY_README in its order, including the 3.8 pair compatibility_level and mail_version; or the same
/// one-recipient message's request at RCPT, for policy services that only count there.
/// </summary>
internal static class PostfixDataRequest
{
    /// <summary>Room for one request with an account of up to 256 bytes.</summary>
    public const int MaxBytes = 2048;

    /// <summary>
    /// Writes the request of message number <paramref name="message"/> from <paramref name="account"/>, sent by the
    /// smtpd process serving <paramref name="client"/> at <paramref name="state"/>; returns its length in bytes,
    /// blank line included.
    /// </summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> account, int client, long message, PostfixState state = PostfixState.Data)
    {
        var rcpt = state == PostfixState.Rcpt;
        var n = 0;
        Line(destination, ref n, "request=smtpd_access_policy"u8);
        Line(destination, ref n, rcpt ? "protocol_state=RCPT"u8 : "protocol_state=DATA"u8);
        Line(destination, ref n, "protocol_name=ESMTP"u8);
        Line(destination, ref n, "helo_name=laptop.example.net"u8);

        // One queue file per message: Postfix's short queue ids are upper-case hexadecimal. smtpd creates the file
        // when it accepts the first recipient, so that recipient's RCPT request has none yet (the NOQUEUE of its logs).
        Append(destination, ref n, "queue_id="u8);
        if (!rcpt)
        {
            Hex(destination, ref n, message, upper: true);
        }

        NewLine(destination, ref n);
        Line(destination, ref n, "sender="u8, account);

        // At DATA the recipient attribute is empty and recipient_count says how many RCPT TO were accepted; at RCPT
        // recipient is the one being checked and the count is that of those accepted before it.
        Line(destination, ref n, rcpt ? "recipient=bob@example.org"u8 : "recipient="u8);
        Line(destination, ref n, rcpt ? "recipient_count=0"u8 : "recipient_count=1"u8);
        Append(destination, ref n, "client_address=198.51.100."u8);
        Number(destination, ref n, (client % 250) + 1);
        NewLine(destination, ref n);
        Line(destination, ref n, "client_name=laptop.example.net"u8);
        Line(destination, ref n, "reverse_client_name=laptop.example.net"u8);

        // Postfix's instance ties the requests of one message together: unique per message on one connection.
        Append(destination, ref n, "instance="u8);
        Hex(destination, ref n, client + 0x1000, upper: false);
        Append(destination, ref n, "."u8);
        Hex(destination, ref n, message, upper: false);
        Append(destination, ref n, ".0.0"u8);
        NewLine(destination, ref n);
        Line(destination, ref n, "sasl_method=PLAIN"u8);
        Line(destination, ref n, "sasl_username="u8, account);
        Line(destination, ref n, "sasl_sender="u8);
        Line(destination, ref n, "size=24576"u8);
        Line(destination, ref n, "ccert_subject="u8);
        Line(destination, ref n, "ccert_issuer="u8);
        Line(destination, ref n, "ccert_fingerprint="u8);
        Line(destination, ref n, "encryption_protocol=TLSv1.3"u8);
        Line(destination, ref n, "encryption_cipher=TLS_AES_256_GCM_SHA384"u8);
        Line(destination, ref n, "encryption_keysize=256"u8);
        Line(destination, ref n, "etrn_domain="u8);
        Line(destination, ref n, "stress="u8);
        Line(destination, ref n, "ccert_pubkey_fingerprint="u8);
        Append(destination, ref n, "client_port="u8);
        Number(destination, ref n, 40000 + (client % 20000));
        NewLine(destination, ref n);
        Line(destination, ref n, "policy_context="u8);
        Line(destination, ref n, "server_address=192.0.2.25"u8);
        Line(destination, ref n, "server_port=587"u8);
        Line(destination, ref n, "compatibility_level=3.6"u8);
        Line(destination, ref n, "mail_version=3.8.6"u8);
        NewLine(destination, ref n);
        return n;
    }

    /// <summary>One request as its own array (benchmarks build these ahead of time).</summary>
    public static byte[] Build(string account, int client, long message)
    {
        Span<byte> buffer = stackalloc byte[MaxBytes];
        var length = Write(buffer, Encoding.UTF8.GetBytes(account), client, message);
        return buffer[..length].ToArray();
    }

    private static void Line(Span<byte> destination, ref int n, ReadOnlySpan<byte> text)
    {
        Append(destination, ref n, text);
        NewLine(destination, ref n);
    }

    private static void Line(Span<byte> destination, ref int n, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Append(destination, ref n, name);
        Append(destination, ref n, value);
        NewLine(destination, ref n);
    }

    private static void Append(Span<byte> destination, ref int n, ReadOnlySpan<byte> text)
    {
        text.CopyTo(destination[n..]);
        n += text.Length;
    }

    private static void NewLine(Span<byte> destination, ref int n) => destination[n++] = (byte)'\n';

    private static void Number(Span<byte> destination, ref int n, long value)
    {
        value.TryFormat(destination[n..], out var written, default, CultureInfo.InvariantCulture);
        n += written;
    }

    private static void Hex(Span<byte> destination, ref int n, long value, bool upper)
    {
        value.TryFormat(destination[n..], out var written, upper ? "X" : "x", CultureInfo.InvariantCulture);
        n += written;
    }
}
