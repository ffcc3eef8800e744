using Floodgate.Bench.Load;

namespace Floodgate.Bench.Peers;

/// <summary>
/// Floodgate with the comparison's rule and no decision log: by default the built <c>floodgate serve --config FILE</c>
/// in its own process, like the peers; or the host in this process that the load tool uses.
/// </summary>
internal sealed class FloodgateServer : PolicyServer
{
    private readonly long _max;
    private readonly string _directory;
    private readonly bool _inProcess;
    private readonly bool _journal;
    private ChildProcess? _process;
    private InProcessFloodgate? _host;

    /// <summary>Floodgate with at most <paramref name="max"/> per login and hour, its files in <paramref name="directory"/>; <paramref name="inProcess"/>: in this process; <paramref name="journal"/> false: counters.durability snapshot instead of the default journal.</summary>
    public FloodgateServer(long max, string directory, bool inProcess, bool journal = true)
        : base((inProcess ? "Floodgate (in process)" : "Floodgate") + (journal ? "" : ", durability: snapshot"), journal ? "floodgate" : "fg-snap",
            PostfixState.Data, Loopback.FreeEndpoint())
    {
        _journal = journal;
        _max = max;
        _directory = directory;
        _inProcess = inProcess;
    }

    public override async Task StartAsync(TimeSpan timeout, CancellationToken cancel)
    {
        if (_inProcess)
        {
            _host = await InProcessFloodgate.StartAsync(_max, decisionLog: null, journal: _journal);
            Endpoint = _host.Endpoint;
            Setup = $"in this process (FloodgateHost.Build), configuration:\n{_host.Config}";
            return;
        }

        var config = Path.Combine(_directory, "floodgate.yml");
        var text = InProcessFloodgate.ConfigFor(Endpoint, _max, decisionLog: null, Path.Combine(_directory, "data"));
        await File.WriteAllTextAsync(config, _journal ? text : text + InProcessFloodgate.SnapshotDurability, cancel);

        var (host, arguments) = ServeCommand(config);
        Setup = $"{host} {string.Join(' ', arguments)}\n{config}:\n{await File.ReadAllTextAsync(config, cancel)}";
        _process = ChildProcess.Start(host, arguments, _directory);
        await WaitUntilListeningAsync(timeout, cancel);
    }

    public override string? Failure() => _process?.Failure();

    /// <summary>The command line of <c>floodgate serve --config FILE</c>.</summary>
    public static (string File, string[] Arguments) ServeCommand(string config)
    {
        // The bench references Floodgate, so the build puts the floodgate executable beside this one.
        var host = Path.Combine(AppContext.BaseDirectory, "floodgate");
        string[] arguments = ["serve", "--config", config];
        return File.Exists(host) ? (host, arguments) : ("dotnet", [Path.Combine(AppContext.BaseDirectory, "floodgate.dll"), .. arguments]);
    }

    public override async ValueTask DisposeAsync()
    {
        _process?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}
