using Floodgate.Bench.Load;

namespace Floodgate.Bench.Peers;

/// <summary>
/// The ceiling of the comparison: <c>dunno.c</c> from this folder (one thread, epoll, every request answered
/// "action=DUNNO" at once, nothing decided or counted), compiled with gcc into the run's folder and run as its own
/// process. What any server does above it is the cost of deciding; it is not exact, by design.
/// </summary>
internal sealed class CeilingServer : PolicyServer
{
    /// <summary>Where the build puts the source, beside the bench's own files.</summary>
    public static string Source => Path.Combine(AppContext.BaseDirectory, "Peers", "dunno.c");

    private readonly string _directory;
    private ChildProcess? _process;

    public CeilingServer(string directory)
        : base("do-nothing C server (epoll, always DUNNO)", "ceiling", PostfixState.Data, Loopback.FreeEndpoint())
    {
        _directory = directory;
    }

    public override bool Enforces => false;

    public override async Task StartAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var binary = Path.Combine(_directory, "dunno");
        string[] build = ["-O2", "-o", binary, Source];
        var (code, output) = await ChildProcess.RunAsync(PeerPackage.Gcc.Program!, build, TimeSpan.FromSeconds(60), cancel);
        if (code != 0)
        {
            throw new PeerException($"gcc {string.Join(' ', build)} failed: {output}");
        }

        var (_, version) = await ChildProcess.RunAsync(PeerPackage.Gcc.Program!, ["-dumpfullversion"], TimeSpan.FromSeconds(10), cancel);
        string[] arguments = [Endpoint.Address.ToString(), Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        Setup = $"gcc {version.Trim()}: gcc {string.Join(' ', build)}\n{binary} {string.Join(' ', arguments)}";
        _process = ChildProcess.Start(binary, arguments, _directory);
        await WaitUntilListeningAsync(timeout, cancel);
    }

    public override string? Failure() => _process?.Failure();

    public override ValueTask DisposeAsync()
    {
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
