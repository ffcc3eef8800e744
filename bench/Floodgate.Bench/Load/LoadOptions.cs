using System.Globalization;

namespace Floodgate.Bench.Load;

/// <summary>The load tool's command line.</summary>
internal sealed record LoadOptions
{
    public const string Usage = """
        usage: Floodgate.Bench load [options]
          --connections LIST  persistent policy connections, e.g. 1,8,50: one run per entry   (default 8)
          --requests N        requests per run, spread over the connections                  (default 200000)
          --users N           distinct SASL logins, drawn with a Zipf-like skew               (default 1000)
          --zipf S            the skew's exponent                                             (default 1.1)
          --target HOST:PORT  an external policy service (or unix:PATH); default: start one in this process
          --max N             the in-process rule: account, messages, max N per 1h, defer    (default 100)
          --log TARGET        the in-process decision log: a file path or stdout             (default none)
          --warmup N          unmeasured requests before each run, on their own logins       (default requests/10, at most 20000)
          --seed N            seed of the login draws                                         (default 1)
          --check             verify each login got exactly min(sent, max) DUNNO answers; exit 1 on FAIL
          --allocations       sample what the process allocates during each measured run, by type (GC
                              AllocationTick events, about one per 100 KB), and print the top types
          --stores LIST       the in-process server's stores, one set of runs each, the first the baseline of the
                              ratio: embedded (counter journal), snapshot (embedded with counters.durability:
                              snapshot), redis (a private redis-server on loopback, started by this tool),
                              e.g. snapshot,embedded or embedded,redis  (default embedded)
        """;

    public IReadOnlyList<int> Connections { get; init; } = [8];

    public int Requests { get; init; } = 200_000;

    public int Users { get; init; } = 1000;

    public double ZipfExponent { get; init; } = 1.1;

    public string? Target { get; init; }

    public long Max { get; init; } = 100;

    public string? Log { get; init; }

    public int Warmup { get; init; } = -1;

    public int Seed { get; init; } = 1;

    public bool Check { get; init; }

    /// <summary>Sample the in-process run's allocations by type (GC AllocationTick events) and print the top ones.</summary>
    public bool Allocations { get; init; }

    /// <summary>The in-process server's stores, measured one after the other in one invocation.</summary>
    public IReadOnlyList<string> Stores { get; init; } = ["embedded"];

    /// <summary>Unmeasured requests before each run: the given number, else a tenth of a run up to 20000.</summary>
    public int WarmupRequests => Warmup >= 0 ? Warmup : Math.Min(Requests / 10, 20_000);

    /// <exception cref="ArgumentException">An unknown option or a bad value.</exception>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            options = name switch
            {
                "--connections" => options with { Connections = ParseList(name, Value()) },
                "--requests" => options with { Requests = (int)ParseNumber(name, Value(), 1, int.MaxValue) },
                "--users" => options with { Users = (int)ParseNumber(name, Value(), 1, 10_000_000) },
                "--zipf" => options with { ZipfExponent = ParseExponent(name, Value()) },
                "--target" => options with { Target = Value() },
                "--max" => options with { Max = ParseNumber(name, Value(), 0, 1_000_000_000) },
                "--log" => options with { Log = Value() },
                "--warmup" => options with { Warmup = (int)ParseNumber(name, Value(), 0, int.MaxValue) },
                "--seed" => options with { Seed = (int)ParseNumber(name, Value(), 0, int.MaxValue) },
                "--check" => options with { Check = true },
                "--allocations" => options with { Allocations = true },
                "--stores" => options with { Stores = ParseStores(name, Value()) },
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }

        if (options.Target is not null && (options.Log is not null || options.Stores is not ["embedded"]))
        {
            throw new ArgumentException("--log and --stores configure the in-process server; they cannot be used with --target");
        }

        return options;
    }

    private static List<int> ParseList(string name, string text)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            list.Add((int)ParseNumber(name, part, 1, 60_000));
        }

        return list.Count > 0 ? list : throw new ArgumentException($"{name} needs at least one connection count");
    }

    private static List<string> ParseStores(string name, string text)
    {
        var stores = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct().ToList();
        return stores.Count > 0 && stores.All(s => s is "embedded" or "snapshot" or "redis")
            ? stores
            : throw new ArgumentException($"{name}: '{text}' is not a list of embedded, snapshot and redis");
    }

    private static long ParseNumber(string name, string text, long min, long max) =>
        long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name}: '{text}' is not a whole number from {min} to {max}");

    private static double ParseExponent(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is > 0 and < 10
            ? s
            : throw new ArgumentException($"{name}: '{text}' is not an exponent between 0 and 10");
}
