using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Floodgate.Demo;

/// <summary>
/// A tiny SMTP server on a free loopback port that accepts every message and keeps it: the demo's next hop (which
/// counts what Floodgate delivered) and the admin's mailbox (where the alert arrives). Lines and messages are bounded;
/// anything past the bounds ends the session.
/// </summary>
public sealed class DemoMailbox : IAsyncDisposable
{
    private const int MaxLineBytes = 4096;
    private const int MaxMessageBytes = 1 << 20;

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ReceivedMail> _received = new();
    private readonly Task _accepting;
    private readonly ConcurrentDictionary<Task, bool> _sessions = new();

    private DemoMailbox(TcpListener listener)
    {
        _listener = listener;
        _accepting = AcceptAsync();
    }

    /// <summary>A message as it arrived: envelope sender, recipients and the bytes after DATA.</summary>
    public sealed record ReceivedMail(string Sender, IReadOnlyList<string> Recipients, byte[] Content);

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    public IReadOnlyCollection<ReceivedMail> Received => _received.ToArray();

    /// <summary>How many messages arrived from <paramref name="sender"/> (the envelope sender).</summary>
    public int CountFrom(string sender) => _received.Count(m => string.Equals(m.Sender, sender, StringComparison.OrdinalIgnoreCase));

    public static DemoMailbox Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new DemoMailbox(listener);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var session = SessionAsync(client);
            _sessions[session] = true;
            _ = session.ContinueWith(t => _sessions.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var reader = new LineReader(stream);
        try
        {
            await ReplyAsync(stream, "220 demo-mailbox ESMTP");
            string? sender = null;
            var recipients = new List<string>();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                    case "HELO":
                        await ReplyAsync(stream, "250 demo-mailbox");
                        break;
                    case "MAIL":
                        sender = Address(line);
                        recipients.Clear();
                        await ReplyAsync(stream, "250 2.1.0 Ok");
                        break;
                    case "RCPT":
                        recipients.Add(Address(line));
                        await ReplyAsync(stream, "250 2.1.5 Ok");
                        break;
                    case "DATA" when sender is not null && recipients.Count > 0:
                        await ReplyAsync(stream, "354 End data with <CR><LF>.<CR><LF>");
                        if (await reader.ReadDataAsync(MaxMessageBytes, _stop.Token) is not { } content)
                        {
                            await ReplyAsync(stream, "552 5.3.4 Message too big");
                            return;
                        }

                        _received.Enqueue(new ReceivedMail(sender, recipients.ToArray(), content));
                        sender = null;
                        recipients.Clear();
                        await ReplyAsync(stream, "250 2.0.0 Ok: kept");
                        break;
                    case "RSET":
                        sender = null;
                        recipients.Clear();
                        await ReplyAsync(stream, "250 2.0.0 Ok");
                        break;
                    case "NOOP":
                        await ReplyAsync(stream, "250 2.0.0 Ok");
                        break;
                    case "QUIT":
                        await ReplyAsync(stream, "221 2.0.0 Bye");
                        return;
                    default:
                        await ReplyAsync(stream, "503 5.5.1 Bad sequence of commands");
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or the demo is ending.
        }
    }

    // "MAIL FROM:<a@b> SIZE=1" -> "a@b".
    private static string Address(string line)
    {
        var start = line.IndexOf('<', StringComparison.Ordinal);
        var end = line.IndexOf('>', StringComparison.Ordinal);
        return start >= 0 && end > start ? line[(start + 1)..end] : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    private Task ReplyAsync(NetworkStream stream, string reply) => stream.WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"), _stop.Token).AsTask();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_sessions.Keys);
        _stop.Dispose();
    }

    // Reads CRLF lines of at most MaxLineBytes from the stream, and DATA up to its lone dot.
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _start;
        private int _end;

        public async Task<string?> ReadLineAsync(CancellationToken cancel) =>
            await ReadRawLineAsync(cancel) is { } line ? Encoding.UTF8.GetString(line) : null;

        public async Task<byte[]?> ReadDataAsync(int limit, CancellationToken cancel)
        {
            using var content = new MemoryStream();
            while (await ReadRawLineAsync(cancel) is { } line)
            {
                if (line is [(byte)'.'])
                {
                    return content.ToArray();
                }

                // RFC 5321 4.5.2: a line starting with a dot had one more added by the client.
                var from = line.Length > 0 && line[0] == '.' ? 1 : 0;
                content.Write(line, from, line.Length - from);
                content.Write("\r\n"u8);
                if (content.Length > limit)
                {
                    return null;
                }
            }

            return null;
        }

        private async Task<byte[]?> ReadRawLineAsync(CancellationToken cancel)
        {
            using var line = new MemoryStream();
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline >= 0)
                {
                    line.Write(_buffer, _start, newline - _start);
                    _start = newline + 1;
                    var bytes = line.ToArray();
                    return bytes.Length > 0 && bytes[^1] == '\r' ? bytes[..^1] : bytes;
                }

                line.Write(_buffer, _start, _end - _start);
                if (line.Length > MaxLineBytes)
                {
                    throw new IOException("line too long");
                }

                _start = 0;
                _end = await stream.ReadAsync(_buffer, cancel);
                if (_end == 0)
                {
                    return null;
                }
            }
        }
    }
}
