using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Floodgate.Tests.Relay;

/// <summary>A raw-socket SMTP client for protocol tests: sends exact bytes, reads whole (multi-line) replies.</summary>
internal sealed class SmtpDialog : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[65536];
    private readonly StringBuilder _pending = new();

    private SmtpDialog(Socket socket) => _socket = socket;

    /// <summary>Connects (from <paramref name="from"/> when given, e.g. 127.0.0.2) and returns the dialogue and the greeting.</summary>
    public static async Task<(SmtpDialog Dialog, string Greeting)> ConnectAsync(IPEndPoint server, IPAddress? from = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (from is not null)
        {
            socket.Bind(new IPEndPoint(from, 0));
        }

        await socket.ConnectAsync(server);
        var dialog = new SmtpDialog(socket);
        return (dialog, await dialog.ReplyAsync());
    }

    public async Task SendAsync(string text) => await _socket.SendAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>Sends one command line and returns its whole reply.</summary>
    public async Task<string> AskAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReplyAsync();
    }

    /// <summary>Reads one reply (all its lines, joined by \n), or "CLOSED" when the server closed the connection.</summary>
    public async Task<string> ReplyAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var lines = new List<string>();
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var line = text[..end];
                _pending.Remove(0, end + 2);
                lines.Add(line);
                if (line.Length < 4 || line[3] != '-')
                {
                    return string.Join('\n', lines);
                }

                continue;
            }

            var read = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cancel.Token);
            if (read == 0)
            {
                return lines.Count > 0 ? string.Join('\n', lines) + "\nCLOSED" : "CLOSED";
            }

            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, read));
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
