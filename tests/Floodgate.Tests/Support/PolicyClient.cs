using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Floodgate.Tests.Support;

/// <summary>A raw-socket policy client that behaves like Postfix: one request at a time on a persistent connection.</summary>
internal sealed class PolicyClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[8192];
    private readonly StringBuilder _pending = new();

    private PolicyClient(Socket socket)
    {
        _socket = socket;
    }

    public static async Task<PolicyClient> ConnectAsync(EndPoint endpoint)
    {
        var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        return new PolicyClient(socket);
    }

    public static string Request(string state, string? sasl, string sender, int recipients, string instance, string client = "192.0.2.10") =>
        "request=smtpd_access_policy\n"
        + $"protocol_state={state}\nprotocol_name=ESMTP\nclient_address={client}\nclient_name=mail.example.net\n"
        + $"helo_name=mail.example.net\nsender={sender}\nrecipient=\nrecipient_count={recipients}\nqueue_id=\n"
        + $"instance={instance}\nsize=1234\nsasl_method={(sasl is null ? "" : "PLAIN")}\nsasl_username={sasl}\n"
        + "sasl_sender=\nccert_subject=\nencryption_protocol=TLSv1.3\npolicy_context=\ncompatibility_level=3.6\nmail_version=3.7.11\n\n";

    public Task<string> AskAsync(string request) => AskRawAsync(Encoding.UTF8.GetBytes(request));

    /// <summary>Sends bytes and returns the action of the answer, or "CLOSED" if the server closed the connection.</summary>
    public async Task<string> AskRawAsync(byte[] request)
    {
        await _socket.SendAsync(request);
        return await ReadAnswerAsync();
    }

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes);

    public async Task<string> ReadAnswerAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf("\n\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 2);
                var answer = text[..end];
                return answer.StartsWith("action=", StringComparison.Ordinal) ? answer["action=".Length..] : "MALFORMED " + answer;
            }

            int n;
            try
            {
                n = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cts.Token);
            }
            catch (SocketException)
            {
                return "CLOSED";
            }

            if (n == 0)
            {
                return "CLOSED";
            }

            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, n));
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
