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
            WriteLine($"peers (Debian packages): {string.Join(", ", versions.Select(v => $"{v.Key} {v.Value}"))}");
        }

        WriteLine("");

        var session = Random.Shared.Next(0x1000000).ToString("x6", CultureInfo.InvariantCulture);
        var rows = new List<PeerRow>();
        var setups = new List<(string Server, string Setup)>();
        var states = new List<(string Server, PostfixState State)>();
        foreach (var name in options.Servers)
        {
            var directory = Path.Combine(folder, name);
            Directory.CreateDirectory(directory);
            var policydState = options.DataOnly ? PostfixState.Data : PostfixState.Rcpt;
            var (package, server) = name switch
            {
                "floodgate" => ((PeerPackage?)null, (PolicyServer)new FloodgateServer(options.Max, directory, options.InProcess)),
                "postfwd" => (PeerPackage.Postfwd, new PostfwdServer(options.Max, directory)),
                "policyd-memory" => (PeerPackage.PolicydRateLimit, new PolicydRateLimitServer(options.Max, directory, inMemory: true, policydState)),
                _ => (PeerPackage.PolicydRateLimit, new PolicydRateLimitServer(options.Max, directory, inMemory: false, policydState)),
            };

            await using (server)
            {
                var isFloodgate = server is FloodgateServer;
                if (package is not null && !versions.ContainsKey(package.Name))
                {
                    rows.AddRange(options.Connections.Select((c, i) => new PeerRow(server.Name, isFloodgate, i + 1, c, null, null, $"{package.Name} is not installed")));
                    continue;
                }

                try
                {
                    await server.StartAsync(StartTimeout, cancel);
                }
                catch (PeerException e)
                {
                    WriteLine($"{server.Name}: {e.Message}");
                    rows.AddRange(options.Connections.Select((c, i) => new PeerRow(server.Name, isFloodgate, i + 1, c, null, null, e.Message)));
                    setups.Add((server.Name, server.Setup));
                    continue;
                }

                WriteLine($"{server.Name}: listening on {server.Endpoint}, sent {server.State.ToString().ToUpperInvariant()}-state requests");
                setups.Add((server.Name, server.Setup));
                states.Add((server.Name, server.State));
                string? broken = null;
                for (var run = 0; run < options.Connections.Count; run++)
                {
                    var connections = options.Connections[run];
                    if (broken is not null)
                    {
                        rows.Add(new PeerRow(server.Name, isFloodgate, run + 1, connections, null, null, $"not run after an earlier failure: {broken}"));
                        continue;
                    }

                    // Logins of their own per server, invocation and run: every limit starts empty, even on a server that outlives us.
                    var prefix = $"{server.Tag}.{session}.r{run + 1}.";
                    var row = await MeasureAsync(server, isFloodgate, connections, run, options, draw, prefix, cancel);
                    rows.Add(row);
                    broken = row.Failure;
                }
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
        return rows.Any(r => r.IsFloodgate && (r.Result is null || r.Check is not { Exact: true })) ? 1 : 0;
    }

    private static async Task<PeerRow> MeasureAsync(PolicyServer server, bool isFloodgate, int connections, int run, PeersOptions options,
        ZipfDistribution draw, string loginPrefix, CancellationToken cancel)
    {
        var logins = LoadTool.Logins(loginPrefix, options.Users);
        var plan = new LoadRunPlan
        {
            Run = run + 1,
            Connections = connections,
            Requests = options.Requests,
            Logins = logins,
            Draw = draw,
            Seed = options.Seed + run,
            RunTag = run + 1,
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
                + (check.Exact
                    ? $"exact: {check.Users} users each accepted min(sent, {options.Max}) times, {check.Limited} reached the limit"
                    : $"NOT exact: {check.Wrong} of {check.Users} users (first: {check.FirstWrong})"));
            return new PeerRow(server.Name, isFloodgate, run + 1, connections, result, check, null);
        }
        catch (Exception e) when (e is TimeoutException or IOException or SocketException or ObjectDisposedException)
        {
            var why = server.Failure() is { } failure ? $"{server.Name} stopped: {failure}"
                : server.Condition() is { } condition ? $"{e.Message} ({condition})"
                : e.Message;
            WriteLine($"{server.Name}, {connections} connections: not measured: {why}");
            return new PeerRow(server.Name, isFloodgate, run + 1, connections, null, null, why);
        }
    }

    private static void WriteTable(List<PeerRow> rows, PeersOptions options)
    {
        WriteLine($"{options.Requests} requests per run, {options.Users} users (Zipf s={options.ZipfExponent}), limit {options.Max} messages per login and hour:");
        WriteLine("");
        WriteLine("| server | connections | requests/s | p50 ms | p99 ms | exact | Floodgate ÷ server |");
        WriteLine("|:---|---:|---:|---:|---:|:---|---:|");
        foreach (var row in rows)
        {
            if (row.Result is not { } r)
            {
                WriteLine($"| {row.Server} | {row.Connections} | - | - | - | not measured | - |");
                continue;
            }

            var floodgate = rows.FirstOrDefault(f => f.IsFloodgate && f.Run == row.Run && f.Result is not null)?.Result;
            var ratio = row.IsFloodgate || floodgate is null ? "-" : $"{floodgate.RequestsPerSecond / r.RequestsPerSecond:F1}×";
            var exact = row.Check!.Exact ? "yes" : $"no ({row.Check.Wrong} of {row.Check.Users} users)";
            WriteLine($"| {row.Server} | {row.Connections} | {r.RequestsPerSecond:F0} | {r.LatencyMs(0.50):F3} | {r.LatencyMs(0.99):F3} | {exact} | {ratio} |");
        }
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

        foreach (var row in rows.Where(r => r.Check is { Exact: false }))
        {
            notes.Add($"{row.Server}, {row.Connections} connections, not exact: {row.Check!.Wrong} of {row.Check.Users} users were accepted "
                + $"a wrong number of times; first: {row.Check.FirstWrong}.");
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
