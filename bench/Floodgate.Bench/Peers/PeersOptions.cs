using System.Globalization;

namespace Floodgate.Bench.Peers;

/// <summary>The peers command line.</summary>
internal sealed record PeersOptions
{
    public const string Usage = """
        usage: Floodgate.Bench peers [options]
          --requests N        measured requests per server and connection count            (default 20000)
          --users N           distinct SASL logins, drawn with a Zipf-like skew             (default 1000)
          --connections LIST  persistent connections, one run per entry                     (default 1,8,50)
          --servers LIST      of floodgate, ceiling, postfwd, policyd-memory, policyd-file,
                              floodgate-snapshot               (default all but floodgate-snapshot)
          --external NAME=HOST:PORT  also measure a server started elsewhere with the same rule
                              (another build, other settings); repeatable
          --rounds N          measure every server at every connection count N times, in turn
                              (round by round), and report medians                         (default 1)
          --max N             the rule: each sasl_username at most N messages per hour      (default 100)
          --warmup N          unmeasured requests per run, same connections, other logins   (default requests/10, at most 2000)
          --timeout SECONDS   limit of one run (connect, warm-up, measure) of one server    (default 300)
          --state auto|data   auto: each server gets the stage it counts at (policyd-rate-limit counts at RCPT only);
                              data: every server gets the DATA request                      (default auto)
          --zipf S            the skew's exponent                                           (default 1.1)
          --seed N            seed of the login draws                                       (default 1)
          --in-process        run Floodgate in this process instead of `floodgate serve`
          --no-install        do not apt-get install missing peers; report them instead
          --keep              keep the temporary folder with configurations and databases
        """;

    public static readonly IReadOnlyList<string> AllServers = ["floodgate", "floodgate-snapshot", "ceiling", "postfwd", "policyd-memory", "policyd-file"];

    public static readonly IReadOnlyList<string> DefaultServers = ["floodgate", "ceiling", "postfwd", "policyd-memory", "policyd-file"];

    public int Requests { get; init; } = 20_000;

    public int Users { get; init; } = 1000;

    public IReadOnlyList<int> Connections { get; init; } = [1, 8, 50];

    public IReadOnlyList<string> Servers { get; init; } = DefaultServers;

    public int Rounds { get; init; } = 1;

    /// <summary>Servers started elsewhere, measured after the others.</summary>
    public IReadOnlyList<(string Name, System.Net.IPEndPoint Endpoint)> External { get; init; } = [];

    public long Max { get; init; } = 100;

    public int Warmup { get; init; } = -1;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Send every server the DATA request, even one that only counts at RCPT.</summary>
    public bool DataOnly { get; init; }

    public double ZipfExponent { get; init; } = 1.1;

    public int Seed { get; init; } = 1;

    public bool InProcess { get; init; }

    public bool Install { get; init; } = true;

    public bool Keep { get; init; }

    /// <summary>Unmeasured requests before each run: the given number, else a tenth of a run up to 2000.</summary>
    public int WarmupRequests => Warmup >= 0 ? Warmup : Math.Min(Requests / 10, 2000);

    /// <exception cref="ArgumentException">An unknown option or a bad value.</exception>
    public static PeersOptions Parse(IReadOnlyList<string> args)
    {
        var options = new PeersOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            options = name switch
            {
                "--requests" => options with { Requests = (int)Number(name, Value(), 1, int.MaxValue) },
                "--users" => options with { Users = (int)Number(name, Value(), 1, 10_000_000) },
                "--connections" => options with { Connections = ConnectionList(name, Value()) },
                "--servers" => options with { Servers = ServerList(name, Value()) },
                "--external" => options with { External = AddExternal(options.External, ExternalServer(name, Value())) },
                "--rounds" => options with { Rounds = (int)Number(name, Value(), 1, 100) },
                "--max" => options with { Max = Number(name, Value(), 1, 1_000_000) },
                "--warmup" => options with { Warmup = (int)Number(name, Value(), 0, int.MaxValue) },
                "--timeout" => options with { Timeout = TimeSpan.FromSeconds(Number(name, Value(), 1, 86_400)) },
                "--state" => options with { DataOnly = DataOnlyState(name, Value()) },
                "--zipf" => options with { ZipfExponent = Exponent(name, Value()) },
                "--seed" => options with { Seed = (int)Number(name, Value(), 0, int.MaxValue) },
                "--in-process" => options with { InProcess = true },
                "--no-install" => options with { Install = false },
                "--keep" => options with { Keep = true },
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }

        return options;
    }

    private static List<(string Name, System.Net.IPEndPoint Endpoint)> AddExternal(IReadOnlyList<(string Name, System.Net.IPEndPoint Endpoint)> list,
        (string Name, System.Net.IPEndPoint Endpoint) server) =>
        list.Any(e => e.Name == server.Name) ? throw new ArgumentException($"--external: the name '{server.Name}' is given twice") : [.. list, server];

    private static (string Name, System.Net.IPEndPoint Endpoint) ExternalServer(string name, string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 && System.Net.IPEndPoint.TryParse(text[(equals + 1)..], out var endpoint) && endpoint.Port > 0
            ? (text[..equals], endpoint)
            : throw new ArgumentException($"{name}: '{text}' is not NAME=ADDRESS:PORT");
    }

    private static bool DataOnlyState(string name, string text) => text switch
    {
        "auto" => false,
        "data" => true,
        _ => throw new ArgumentException($"{name}: '{text}' is not auto or data"),
    };

    internal static List<int> ConnectionList(string name, string text)
    {
        var list = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(part => (int)Number(name, part, 1, 1000))
            .ToList();
        return list.Count > 0 ? list : throw new ArgumentException($"{name} needs at least one connection count");
    }

    private static List<string> ServerList(string name, string text)
    {
        var list = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct().ToList();
        var unknown = list.FirstOrDefault(s => !AllServers.Contains(s));
        return unknown is not null ? throw new ArgumentException($"{name}: '{unknown}' is not one of {string.Join(", ", AllServers)}")
            : list.Count > 0 ? list
            : throw new ArgumentException($"{name} needs at least one server");
    }

    internal static long Number(string name, string text, long min, long max) =>
        long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name}: '{text}' is not a whole number from {min} to {max}");

    private static double Exponent(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is > 0 and < 10
            ? s
            : throw new ArgumentException($"{name}: '{text}' is not an exponent between 0 and 10");
}
