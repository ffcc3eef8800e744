using Floodgate.Bench.Peers;

namespace Floodgate.Bench.Relay;

/// <summary>The relay command line.</summary>
internal sealed record RelayBenchOptions
{
    public const string Usage = """
        usage: Floodgate.Bench relay [options]      (as root: it starts a private Postfix)
          --messages N        measured messages per server and connection count      (default 4000)
          --connections LIST  parallel SMTP connections, one run per entry           (default 8,32)
          --size BYTES        size of each message, headers included                  (default 10240)
          --warmup N          unmeasured messages per server before the first run     (default 400)
          --timeout SECONDS   limit of one run, until the sink has every message      (default 300)
          --keep              keep the temporary folder with configurations and logs
        """;

    public int Messages { get; init; } = 4000;

    public IReadOnlyList<int> Connections { get; init; } = [8, 32];

    public int Size { get; init; } = 10 * 1024;

    public int Warmup { get; init; } = 400;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);

    public bool Keep { get; init; }

    /// <exception cref="ArgumentException">An unknown option or a bad value.</exception>
    public static RelayBenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new RelayBenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            options = name switch
            {
                "--messages" => options with { Messages = (int)PeersOptions.Number(name, Value(), 1, 10_000_000) },
                "--connections" => options with { Connections = PeersOptions.ConnectionList(name, Value()) },
                "--size" => options with { Size = (int)PeersOptions.Number(name, Value(), 512, 64 * 1024 * 1024) },
                "--warmup" => options with { Warmup = (int)PeersOptions.Number(name, Value(), 0, 10_000_000) },
                "--timeout" => options with { Timeout = TimeSpan.FromSeconds(PeersOptions.Number(name, Value(), 1, 86_400)) },
                "--keep" => options with { Keep = true },
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }

        return options;
    }
}
