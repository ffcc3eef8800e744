using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Floodgate.Bench.Load;

/// <summary>
/// One persistent policy connection used the way an smtpd process uses it: one request, wait for the whole answer
/// (up to the empty line), then the next. Buffers are allocated once; the send and receive calls complete on the
/// socket's reusable event args, so a request costs the client no allocation.
/// </summary>
internal sealed class PolicyClient : IDisposable
{
    private static ReadOnlySpan<byte> ActionPrefix => "action="u8;

    private static ReadOnlySpan<byte> DeferPrefix => "action=DEFER_IF_PERMIT "u8;

    private readonly Socket _socket;
    private readonly int _index;
    private readonly byte[] _request = new byte[PostfixDataRequest.MaxBytes];
    private readonly byte[] _answer = new byte[4096];
    private bool _disposed;

    private PolicyClient(Socket socket, int index)
    {
        _socket = socket;
        _index = index;
    }

    public static async Task<PolicyClient> ConnectAsync(EndPoint endpoint, int index, CancellationToken cancel = default)
    {
        var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancel);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new PolicyClient(socket, index);
    }

    /// <summary>Sends the run's requests one at a time, timing each from the send to the end of its answer.</summary>
    public async Task RunAsync(ConnectionRun run)
    {
        var request = _request.AsMemory();
        var answer = _answer.AsMemory();
        for (var i = 0; i < run.Count; i++)
        {
            var user = run.Draw.Sample(run.Random);
            var length = PostfixDataRequest.Write(_request, run.Logins[user], _index, run.FirstMessage + i, run.State);
            var started = Stopwatch.GetTimestamp();

            var sent = 0;
            while (sent < length)
            {
                sent += await _socket.SendAsync(request[sent..length], SocketFlags.None);
            }

            var received = 0;
            while (received < 2 || _answer[received - 1] != '\n' || _answer[received - 2] != '\n')
            {
                if (received == _answer.Length)
                {
                    throw new IOException($"an answer longer than {_answer.Length} bytes");
                }

                var n = await _socket.ReceiveAsync(answer[received..], SocketFlags.None);
                if (n == 0)
                {
                    throw new IOException("the policy service closed the connection");
                }

                received += n;
            }

            run.Latencies[run.Offset + i] = Stopwatch.GetTimestamp() - started;
            Record(run, user, received);
        }
    }

    public void Dispose()
    {
        // A run that times out closes its clients early to end their waits; the run's cleanup closes them again.
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed by the other end.
        }

        _socket.Dispose();
    }

    private void Record(ConnectionRun run, int user, int received)
    {
        var answer = _answer.AsSpan(0, received);
        run.Sent[user]++;
        if (Accepts(answer))
        {
            run.Accepted[user]++;
            run.Accepts++;
        }
        else if (answer.StartsWith(DeferPrefix))
        {
            run.Deferred++;
        }
        else
        {
            run.Unexpected++;
            run.FirstUnexpected ??= Encoding.UTF8.GetString(answer).TrimEnd('\n');
        }
    }

    // DUNNO and OK let the message go on (OK may carry a text); policy services differ in case (policyd-rate-limit
    // answers "dunno"), and Postfix compares actions case-insensitively.
    private static bool Accepts(ReadOnlySpan<byte> answer)
    {
        if (!answer.StartsWith(ActionPrefix))
        {
            return false;
        }

        var value = answer[ActionPrefix.Length..];
        var end = value.IndexOfAny((byte)' ', (byte)'\n');
        var action = end < 0 ? value : value[..end];
        return Ascii.EqualsIgnoreCase(action, "DUNNO"u8) || Ascii.EqualsIgnoreCase(action, "OK"u8);
    }
}
