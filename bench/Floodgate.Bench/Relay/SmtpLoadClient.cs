using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Floodgate.Bench.Relay;

/// <summary>
/// A lean SMTP client for load: one connection, MAIL, RCPT and DATA sent in one write when the server offers
/// PIPELINING (RFC 2920), the content pre-rendered with CRLF line ends and no line starting with a dot. It costs the
/// load generator little CPU, which shares the cores with the servers measured, and is the same for every server.
/// </summary>
internal sealed class SmtpLoadClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private bool _pipelining;

    private SmtpLoadClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream, Encoding.ASCII, detectEncodingFromByteOrderMarks: false, bufferSize: 4096, leaveOpen: true);
    }

    /// <exception cref="InvalidOperationException">The server's greeting or EHLO answer was not a success.</exception>
    public static async Task<SmtpLoadClient> ConnectAsync(IPEndPoint server, CancellationToken cancel)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(server, cancel);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }

        var client = new SmtpLoadClient(tcp);
        try
        {
            await client.ExpectAsync("220", "greeting", cancel);
            await client.WriteAsync("EHLO bench.floodgate.test\r\n", cancel);
            var ehlo = await client.ExpectAsync("250", "EHLO", cancel);
            client._pipelining = ehlo.Contains("PIPELINING", StringComparison.OrdinalIgnoreCase);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends one message; returns when the server has answered 250 to its content.</summary>
    /// <exception cref="InvalidOperationException">A command was refused.</exception>
    public async Task SendAsync(string sender, string recipient, ReadOnlyMemory<byte> headers, ReadOnlyMemory<byte> body, CancellationToken cancel)
    {
        var envelope = $"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n";
        if (_pipelining)
        {
            await WriteAsync(envelope, cancel);
            await ExpectAsync("250", "MAIL FROM", cancel);
            await ExpectAsync("250", "RCPT TO", cancel);
        }
        else
        {
            var lines = envelope.Split("\r\n");
            await WriteAsync(lines[0] + "\r\n", cancel);
            await ExpectAsync("250", "MAIL FROM", cancel);
            await WriteAsync(lines[1] + "\r\n", cancel);
            await ExpectAsync("250", "RCPT TO", cancel);
            await WriteAsync("DATA\r\n", cancel);
        }

        await ExpectAsync("354", "DATA", cancel);
        await _stream.WriteAsync(headers, cancel);
        await _stream.WriteAsync(body, cancel);
        await ExpectAsync("250", "end of data", cancel);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_tcp.Connected)
            {
                await WriteAsync("QUIT\r\n", CancellationToken.None);
            }
        }
        catch (IOException)
        {
            // The server already closed: nothing to say goodbye to.
        }

        _reader.Dispose();
        _tcp.Dispose();
    }

    private ValueTask WriteAsync(string text, CancellationToken cancel) => _stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancel);

    // A reply is one or more lines "NNN-text", the last one "NNN text".
    private async Task<string> ExpectAsync(string code, string step, CancellationToken cancel)
    {
        var reply = new StringBuilder();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancel) ?? throw new InvalidOperationException($"the server closed the connection at {step}: {reply}");
            reply.Append(line).Append('\n');
            if (line.Length < 4 || line[3] != '-')
            {
                return line.StartsWith(code, StringComparison.Ordinal)
                    ? reply.ToString()
                    : throw new InvalidOperationException($"{step} answered {reply.ToString().TrimEnd()}");
            }
        }
    }
}
