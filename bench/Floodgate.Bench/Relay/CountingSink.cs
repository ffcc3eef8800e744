using System.Net;
using Floodgate.Bench.Load;
using Floodgate.Bench.Peers;

namespace Floodgate.Bench.Relay;

/// <summary>
/// Postfix's smtp-sink on a loopback port, the next hop of every server measured. It dumps each message it accepts
/// to its own file in a folder under /dev/shm (memory, so the sink itself never waits on a disk), which is how the
/// bench knows when every message has arrived and that none is missing.
/// </summary>
internal sealed class CountingSink : IDisposable
{
    public const string Program = "/usr/sbin/smtp-sink";

    private readonly ChildProcess _process;

    private CountingSink(ChildProcess process, string folder, IPEndPoint endpoint)
    {
        _process = process;
        Folder = folder;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    public string Folder { get; }

    /// <summary>Messages received since the last <see cref="Clear"/>.</summary>
    public int Count => Directory.EnumerateFiles(Folder).Count();

    /// <exception cref="PeerException">It did not start.</exception>
    public static async Task<CountingSink> StartAsync(string name, TimeSpan timeout, CancellationToken cancel)
    {
        var folder = Path.Combine("/dev/shm", $"floodgate-relay-bench-{name}-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);

        // smtp-sink drops to the postfix account after binding its port; it writes the dumps as that account.
        await PolicyServer.GiveToAsync(folder, "postfix", "postfix", cancel);
        var endpoint = Loopback.FreeEndpoint();
        var process = ChildProcess.Start(Program, ["-u", "postfix", "-d", $"{folder}/%H%M%S.", $"{endpoint}", "256"], folder);
        var sink = new CountingSink(process, folder, endpoint);
        try
        {
            await Loopback.WaitForListenerAsync("smtp-sink", endpoint, process.Failure, timeout, cancel);
        }
        catch
        {
            sink.Dispose();
            throw;
        }

        return sink;
    }

    /// <summary>Forgets the messages received so far.</summary>
    public void Clear()
    {
        foreach (var file in Directory.EnumerateFiles(Folder))
        {
            File.Delete(file);
        }
    }

    public string? Failure() => _process.Failure();

    public void Dispose()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
