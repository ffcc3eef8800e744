using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Floodgate.Tests.Postfix;
using MimeKit;

namespace Floodgate.Tests.Relay.Delivery;

/// <summary>Postfix's smtp-sink as the next hop on a chosen loopback port, one dump file per message received.</summary>
internal sealed class NextHopSink : IAsyncDisposable
{
    private const string Program = "/usr/sbin/smtp-sink";
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private NextHopSink(Process process, string dumps)
    {
        _process = process;
        Dumps = dumps;

        // Read as it comes, so that a chatty sink (-v) never blocks on a full pipe.
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Dumps { get; }

    /// <summary>What smtp-sink printed: with -v, each SMTP command it received (an EHLO opens a session).</summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <summary>Starts smtp-sink on 127.0.0.1:<paramref name="port"/>, dumping into <paramref name="dumps"/> (created if missing).</summary>
    public static async Task<NextHopSink> StartAsync(int port, string dumps, params string[] options)
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException($"the delivery tests need Postfix's {Program}: run ./test.sh, which installs Debian's postfix package");
        }

        Directory.CreateDirectory(dumps);
        var start = new ProcessStartInfo(Program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Environment.UserName == "root")
        {
            // As root, smtp-sink drops to the postfix user, which must reach and write the dump folder.
            File.SetUnixFileMode(Path.GetDirectoryName(dumps)!, (UnixFileMode)0b111_101_101);
            await PostfixInstance.RunAsync("/bin/chown", $"postfix {dumps}");
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("postfix");
        }

        foreach (var argument in options.Concat(["-d", $"{dumps}/%M.", $"127.0.0.1:{port}", "64"]))
        {
            start.ArgumentList.Add(argument);
        }

        var sink = new NextHopSink(Process.Start(start)!, dumps);
        for (var i = 0; i < 100 && !sink._process.HasExited; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return sink;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        await sink.DisposeAsync();
        var error = string.Join('\n', sink.Output);
        throw new InvalidOperationException($"smtp-sink did not listen on 127.0.0.1:{port}: {error}");
    }

    /// <summary>Each dumped transaction's bytes: smtp-sink's own X- and Received headers, then the message as received.</summary>
    public List<byte[]> Received() =>
        [.. Directory.EnumerateFiles(Dumps).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];

    public List<MimeMessage> Messages() => [.. Received().Select(b => MimeMessage.Load(new MemoryStream(b)))];

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
