using System.Diagnostics;
using System.Net.Sockets;
using Floodgate.Tests.Postfix;
using Floodgate.Tests.Support;
using MimeKit;

namespace Floodgate.Tests.Alerts;

/// <summary>Postfix's smtp-sink on a free loopback port, dumping every message it receives to its own file.</summary>
internal sealed class SmtpSink : IAsyncDisposable
{
    private const string Program = "/usr/sbin/smtp-sink";
    private readonly Process _process;
    private readonly string _folder;

    private SmtpSink(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    private string DumpDirectory => Path.Combine(_folder, "mail");

    /// <summary>Starts smtp-sink with extra options (for example "-f", "AUTH" to refuse every login).</summary>
    public static async Task<SmtpSink> StartAsync(params string[] options)
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException($"the alert mail tests need Postfix's {Program}: run ./test.sh, which installs Debian's postfix package");
        }

        var folder = Directory.CreateTempSubdirectory("floodgate-sink-").FullName;
        var dump = Path.Combine(folder, "mail");
        Directory.CreateDirectory(dump);
        var root = Environment.UserName == "root";
        if (root)
        {
            // As root, smtp-sink drops to the postfix user, which must reach and write the dump folder.
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
            await PostfixInstance.RunAsync("/bin/chown", $"postfix {dump}");
        }

        var port = FreePort.Next();
        var start = new ProcessStartInfo(Program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (root)
        {
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("postfix");
        }

        foreach (var option in options)
        {
            start.ArgumentList.Add(option);
        }

        foreach (var arg in new[] { "-d", $"{dump}/%M.", $"127.0.0.1:{port}", "16" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        var sink = new SmtpSink(process, folder, port);
        for (var i = 0; ; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return sink;
            }
            catch (SocketException) when (i < 100 && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                var error = process.HasExited ? await process.StandardError.ReadToEndAsync() : "";
                await sink.DisposeAsync();
                throw new InvalidOperationException($"smtp-sink did not listen on 127.0.0.1:{port}: {error}");
            }
        }
    }

    /// <summary>The messages received so far, parsed the way a mail client reads them (smtp-sink's envelope lines come first as X- headers).</summary>
    public List<MimeMessage> Messages() =>
        [.. Directory.EnumerateFiles(DumpDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => MimeMessage.Load(f))];

    public int MessageCount => Directory.EnumerateFiles(DumpDirectory, "*", SearchOption.AllDirectories).Count();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
