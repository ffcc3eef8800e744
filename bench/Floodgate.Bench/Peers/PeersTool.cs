using System.Globalization;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Floodgate.Bench.Load;

namespace Floodgate.Bench.Peers;

/// <summary>
/// Floodgate side by side with Debian's postfwd and policyd-rate-limit: each started on loopback with the same rule
/// (each sasl_username at most max messages per hour, then a 4xx), driven in turn with the same Postfix-like load at
/// each connection count, checked for exact enforcement, and reported in one Markdown table.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class PeersTool
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        PeersOptions options = null!;
        if (await ToolArguments.ParseAsync(args, PeersOptions.Usage, PeersOptions.Parse, o => options = o) is { } exit)
        {
            return exit;
        }

        return await ToolFolder.RunAsync("peers", options.Keep, (folder, cancel) => RunAllAsync(options, folder, cancel));
    }

    private static async Task<int> RunAllAsync(PeersOptions options, string folder, CancellationToken cancel)
    {
        // The peers run under their own accounts and must reach their folders inside this one.
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        var draw = new ZipfDistribution(options.Users, options.ZipfExponent);
        var top10 = Enumerable.Range(0, Math.Min(10, draw.Count)).Sum(draw.Probability);
        WriteLine($"rule on every server: each sasl_username at most {options.Max} messages per hour, then a 4xx; fresh logins per server and run");
        WriteLine($"users: {options.Users}, Zipf s={options.ZipfExponent}: the busiest gets {draw.Probability(0):P1} of requests, the top 10 {top10:P1}");
        WriteLine($"per run: {options.Requests} requests after {options.WarmupRequests} unmeasured warm-up requests on the same connections "
            + $"(other logins); timeout {options.Timeout.TotalSeconds:F0} s per run");
        WriteLine($"machine: {LoadTool.Machine()}; load average {LoadAverage()}");

        var packages = new List<PeerPackage>();
        if (options.Servers.Contains("ceiling") && !File.Exists(PeerPackage.Gcc.Program))
        {
            packages.Add(PeerPackage.Gcc);
        }

        if (options.Servers.Contains("postfwd"))
        {
            packages.Add(PeerPackage.Postfwd);
        }

        if (options.Servers.Any(s => s.StartsWith("policyd-", StringComparison.Ordinal)))
        {
            packages.Add(PeerPackage.PolicydRateLimit);
        }

        var versions = await DebianPackages.EnsureAsync(packages, options.Install, WriteLine, cancel);
        if (versions.Count > 0)
        {
            WriteLine($"Debian packages: {string.Join(", ", versions.Select(v => $"{v.Key} {v.Value}"))}");
        }

        WriteLine("");

        var session = Random.Shared.Next(0x1000000).ToString("x6", CultureInfo.InvariantCulture);
        var rows = new List<PeerRow>();
        var setups = new List<(string Server, string Setup)>();
        var states = new List<(string Server, PostfixState State)>();
        var started = new List<PolicyServer>();
        try
        {
            // Every server is started first and measured round by round, connection count by connection count, one
            // server after the other: a drift in the machine's load spreads over all of them instead of one.
            foreach (var name in options.Servers.Concat(options.External.Select(e => "external:" + e.Name)))
            {
                var directory = Path.Combine(folder, name.Replace(':', '-').Replace('/', '-'));
                Directory.CreateDirectory(directory);
                var policydState = options.DataOnly ? PostfixState.Data : PostfixState.Rcpt;
                var (package, server) = name switch
                {
                    "floodgate" => ((PeerPackage?)null, (PolicyServer)new FloodgateServer(options.Max, directory, options.InProcess)),
                    "floodgate-snapshot" => (null, new FloodgateServer(options.Max, directory, options.InProcess, journal: false)),
                    "ceiling" => (File.Exists(PeerPackage.Gcc.Program) ? null : PeerPackage.Gcc, new CeilingServer(directory)),
                    _ when name.StartsWith("external:", StringComparison.Ordinal) =>
                        (null, ExternalServerNamed(name["external:".Length..], options)),
                    "postfwd" => (PeerPackage.Postfwd, new PostfwdServer(options.Max, directory)),
                    "policyd-memory" => (PeerPackage.PolicydRateLimit, new PolicydRateLimitServer(options.Max, directory, inMemory: true, policydState)),
                    _ => (PeerPackage.PolicydRateLimit, new PolicydRateLimitServer(options.Max, directory, inMemory: false, policydState)),
                };

                var isFloodgate = server is FloodgateServer;
                if (package is not null && !versions.ContainsKey(package.Name))
                {
                    rows.AddRange(options.Connections.Select((c, i) => PeerRow.Failed(server, isFloodgate, i + 1, c, $"{package.Name} is not installed")));
                    await server.DisposeAsync();
                    continue;
                }

                started.Add(server);
                try
                {
                    await server.StartAsync(StartTimeout, cancel);
                }
                catch (PeerException e)
                {
                    WriteLine($"{server.Name}: {e.Message}");
                    rows.AddRange(options.Connections.Select((c, i) => PeerRow.Failed(server, isFloodgate, i + 1, c, e.Message)));
                    setups.Add((server.Name, server.Setup));
                    started.Remove(server);
                    await server.DisposeAsync();
                    continue;
                }

                WriteLine($"{server.Name}: listening on {server.Endpoint}, sent {server.State.ToString().ToUpperInvariant()}-state requests");
                setups.Add((server.Name, server.Setup));
                states.Add((server.Name, server.State));
            }

            var measured = started.ToDictionary(s => s, s => options.Connections.Select((c, i) => new PeerRow(s.Name, s is FloodgateServer, s.Enforces, i + 1, c)).ToList());
            var broken = new Dictionary<PolicyServer, string>();
            for (var round = 0; round < options.Rounds; round++)
            {
                if (options.Rounds > 1)
                {
                    WriteLine($"-- round {round + 1} of {options.Rounds}; load average {LoadAverage()}");
                }

                for (var run = 0; run < options.Connections.Count; run++)
                {
                    foreach (var server in started)
                    {
                        var row = measured[server][run];
                        if (broken.TryGetValue(server, out var why))
                        {
                            row.Failure ??= $"not run after an earlier failure: {why}";
                            continue;
                        }

                        // Logins of their own per server, invocation, run and round: every limit starts empty, even on a server that outlives us.
                        var prefix = $"{server.Tag}.{session}.r{run + 1}.{round + 1}.";
                        var (result, check, failure) = await MeasureAsync(server, row.Connections, run, round, options, draw, prefix, cancel);
                        if (failure is not null)
                        {
                            row.Failure = failure;
                            broken[server] = failure;
                            continue;
                        }

                        row.Results.Add(result!);
                        row.Checks.Add(check!);
                    }
                }
            }

            rows.AddRange(measured.Values.SelectMany(r => r));
        }
        finally
        {
            foreach (var server in started)
            {
                await server.DisposeAsync();
            }
        }

        WriteLine("");
        WriteLine($"load average after the runs: {LoadAverage()} (on a machine busy with other work, every number here moves)");
        WriteLine("");
        WriteTable(rows, options);
        WriteNotes(rows, states, options);
        WriteLine("");
        WriteLine("## How each server was run");
        foreach (var (server, setup) in setups)
        {
            WriteLine("");
            WriteLine($"{server}:");
            WriteLine("```");
            WriteLine(setup.TrimEnd());
            WriteLine("```");
        }

        // A peer's inexactness is news, not an error; Floodgate's own is.
        return rows.Any(r => r.IsFloodgate && (r.Failure is not null || r.Results.Count == 0 || r.Checks.Any(c => !c.Exact))) ? 1 : 0;
    }

    private static async Task<(LoadRunResult? Result, EnforcementCheck? Check, string? Failure)> MeasureAsync(PolicyServer server, int connections,
        int run, int round, PeersOptions options, ZipfDistribution draw, string loginPrefix, CancellationToken cancel)
    {
        var logins = LoadTool.Logins(loginPrefix, options.Users);
        var plan = new LoadRunPlan
        {
            Run = run + 1,
            Connections = connections,
            Requests = options.Requests,
            Logins = logins,
            Draw = draw,
            Seed = options.Seed + run + (1000 * round),
            RunTag = run + 1 + (1000 * round),
            State = server.State,
            WarmupRequests = options.WarmupRequests,
            WarmupLogins = LoadTool.Logins(loginPrefix + "warm.", options.Users),
            Timeout = options.Timeout,
        };
        try
        {
            var result = await LoadTool.RunOnceAsync(server.Endpoint, plan, cancel);
            var check = EnforcementCheck.Of(result, options.Max, logins);
            WriteLine($"{server.Name}, {connections} connections: {result.Requests} requests in {result.Seconds:F2} s = {result.RequestsPerSecond:F0} requests/s; "
                + $"latency p50 {result.LatencyMs(0.50):F3} ms, p99 {result.LatencyMs(0.99):F3} ms; accepted {result.Accepts}, refused {result.Other}; "
                + (!server.Enforces ? "enforces nothing"
                    : check.Exact
                    ? $"exact: {check.Users} users each accepted min(sent, {options.Max}) times, {check.Limited} reached the limit"
                    : $"NOT exact: {check.Wrong} of {check.Users} users (first: {check.FirstWrong})"));
            return (result, check, null);
        }
        catch (Exception e) when (e is TimeoutException or IOException or SocketException or ObjectDisposedException)
        {
            var why = server.Failure() is { } failure ? $"{server.Name} stopped: {failure}"
                : server.Condition() is { } condition ? $"{e.Message} ({condition})"
                : e.Message;
            WriteLine($"{server.Name}, {connections} connections: not measured: {why}");
            return (null, null, why);
        }
    }

    private static void WriteTable(List<PeerRow> rows, PeersOptions options)
    {
        var rounds = options.Rounds > 1 ? $"; each figure the median of {options.Rounds} rounds (requests/s: median, lowest–highest)" : "";
        WriteLine($"{options.Requests} requests per run, {options.Users} users (Zipf s={options.ZipfExponent}), limit {options.Max} messages per login and hour{rounds}:");
        WriteLine("");
        WriteLine("| server | connections | requests/s | ÷ ceiling | p50 ms | p99 ms | p99 ÷ ceiling's | exact | Floodgate ÷ server |");
        WriteLine("|:---|---:|---:|---:|---:|---:|---:|:---|---:|");
        foreach (var row in rows)
        {
            if (row.Results.Count == 0)
            {
                WriteLine($"| {row.Server} | {row.Connections} | - | - | - | - | - | not measured | - |");
                continue;
            }

            var ceiling = rows.FirstOrDefault(f => !f.Enforces && f.Run == row.Run && f.Results.Count > 0);
            var floodgate = rows.FirstOrDefault(f => f.IsFloodgate && f.Run == row.Run && f.Results.Count > 0);
            var rate = Median(row.Results.Select(r => r.RequestsPerSecond));
            var rateText = row.Results.Count > 1
                ? $"{rate:F0} ({row.Results.Min(r => r.RequestsPerSecond):F0}–{row.Results.Max(r => r.RequestsPerSecond):F0})"
                : $"{rate:F0}";
            var p99 = Median(row.Results.Select(r => r.LatencyMs(0.99)));
            var toCeiling = ceiling is null || ceiling == row ? "-" : $"{Median(row.Results.Select(r => r.RequestsPerSecond)) / Median(ceiling.Results.Select(r => r.RequestsPerSecond)):F2}×";
            var p99ToCeiling = ceiling is null || ceiling == row ? "-" : $"{p99 / Median(ceiling.Results.Select(r => r.LatencyMs(0.99))):F2}×";
            var ratio = row.IsFloodgate || floodgate is null ? "-" : $"{Median(floodgate.Results.Select(r => r.RequestsPerSecond)) / rate:F1}×";
            var wrong = row.Checks.FirstOrDefault(c => !c.Exact);
            var exact = !row.Enforces ? "n/a (counts nothing)" : wrong is null ? "yes" : $"no ({wrong.Wrong} of {wrong.Users} users)";
            WriteLine($"| {row.Server} | {row.Connections} | {rateText} | {toCeiling} | {Median(row.Results.Select(r => r.LatencyMs(0.50))):F3} | {p99:F3} | {p99ToCeiling} | {exact} | {ratio} |");
        }
    }

    private static ExternalServer ExternalServerNamed(string name, PeersOptions options)
    {
        var index = options.External.Select(e => e.Name).ToList().IndexOf(name);
        return new ExternalServer(name, options.External[index].Endpoint, index + 1);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static void WriteNotes(List<PeerRow> rows, List<(string Server, PostfixState State)> states, PeersOptions options)
    {
        var notes = new List<string>();
        var rcpt = states.Where(s => s.State == PostfixState.Rcpt).Select(s => s.Server).ToList();
        var data = states.Where(s => s.State == PostfixState.Data).Select(s => s.Server).ToList();
        if (rcpt.Count > 0)
        {
            notes.Add($"{string.Join(", ", data)} got the DATA-state request of each one-recipient message; {string.Join(", ", rcpt)} "
                + "got that message's RCPT-state request instead, because policyd-rate-limit counts only at RCPT: any other stage "
                + "gets its success action without being counted. One request per message either way.");
        }
        else if (options.DataOnly && states.Any(s => s.Server.StartsWith("policyd-rate-limit", StringComparison.Ordinal)))
        {
            notes.Add("--state data: policyd-rate-limit got DATA-state requests, which it answers 'dunno' without counting, so it is not exact by design.");
        }

        foreach (var row in rows.Where(r => r.Enforces))
        {
            foreach (var check in row.Checks.Where(c => !c.Exact))
            {
                notes.Add($"{row.Server}, {row.Connections} connections, not exact: {check.Wrong} of {check.Users} users were accepted "
                    + $"a wrong number of times; first: {check.FirstWrong}.");
            }
        }

        if (rows.Any(r => !r.Enforces))
        {
            notes.Add("The ceiling is dunno.c from the bench's Peers folder: one thread, epoll, every request answered action=DUNNO as "
                + "soon as its empty line arrives, nothing parsed, decided or counted. ÷ ceiling is a server's requests/s divided by the "
                + "ceiling's at the same connection count; p99 ÷ ceiling's likewise for the 99th percentile latency.");
        }

        foreach (var row in rows.Where(r => r.Failure is not null))
        {
            notes.Add($"{row.Server}, {row.Connections} connections, not measured: {row.Failure}");
        }

        notes.Add("Accepted = DUNNO or OK in any case; any other action counts as refused. Exact = every login was accepted exactly "
            + $"min(sent, {options.Max}) times. Latency is timed by the client from sending a request to the end of its answer; "
            + "one request in flight per connection, as Postfix's smtpd sends them.");
        notes.Add($"Machine: {LoadTool.Machine()}; the client is this process, each server its own process"
            + (options.InProcess ? " (Floodgate: in this process)." : "."));
        WriteLine("");
        foreach (var note in notes)
        {
            WriteLine($"- {note}");
        }
    }

    // The 1, 5 and 15 minute load averages: other work on the machine moves every number in the table.
    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static void WriteLine(string line) => Console.WriteLine(line);
}
