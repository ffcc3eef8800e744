using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;

namespace Floodgate.Bench.Load;

/// <summary>
/// Drives a policy listener the way Postfix does: C persistent connections, each sending one DATA-state request at a
/// time and waiting for its answer, over users drawn with a Zipf-like skew; reports throughput and latency per run.
/// </summary>
internal static class LoadTool
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        // Numbers in the tables are read by people and pasted into the README: one format everywhere.
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Any(a => a is "--help" or "-h"))
        {
            Console.WriteLine(LoadOptions.Usage);
            return 0;
        }

        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            await Console.Error.WriteLineAsync(LoadOptions.Usage);
            return 2;
        }

        InProcessFloodgate? server = null;
        try
        {
            EndPoint endpoint;
            string loginTag;
            if (options.Target is null)
            {
                server = await InProcessFloodgate.StartAsync(options.Max, options.Log);
                endpoint = server.Endpoint;
                loginTag = "";
            }
            else
            {
                endpoint = await ResolveAsync(options.Target);

                // An external server keeps counters between invocations: logins of this invocation are its own.
                loginTag = Random.Shared.Next(0x1000000).ToString("x6", CultureInfo.InvariantCulture) + ".";
            }

            return await RunAllAsync(options, endpoint, server, loginTag);
        }
        catch (Exception e) when (e is SocketException or IOException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"load: {options.Target ?? "the in-process server"}: {e.Message}");
            return 3;
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    private static async Task<int> RunAllAsync(LoadOptions options, EndPoint endpoint, InProcessFloodgate? server, string loginTag)
    {
        var draw = new ZipfDistribution(options.Users, options.ZipfExponent);
        var top10 = Enumerable.Range(0, Math.Min(10, draw.Count)).Sum(draw.Probability);
        WriteLine($"target: {endpoint} ({(server is null ? "external" : "in process")})");
        if (server is not null)
        {
            WriteLine($"rule: account, messages, max {options.Max} per 1h, defer; decision log {options.Log ?? "none"}");
        }

        WriteLine($"users: {options.Users}, Zipf s={options.ZipfExponent}: the busiest gets {draw.Probability(0):P1} of requests, the top 10 {top10:P1}");
        WriteLine($"per run: {options.Requests} requests after {options.WarmupRequests} unmeasured warm-up requests on other logins");
        WriteLine($"machine: {Machine()}");
        if (options.Check && server is null)
        {
            WriteLine($"check: assumes the target counts account/messages with max {options.Max} over a window longer than the run");
        }

        WriteLine("");

        var results = new List<LoadRunResult>();
        for (var run = 0; run < options.Connections.Count; run++)
        {
            var connections = options.Connections[run];
            if (options.WarmupRequests > 0)
            {
                var warmLogins = Logins($"warm{run + 1}.{loginTag}", options.Users);
                await RunOnceAsync(endpoint, run + 1, connections, options.WarmupRequests, warmLogins, draw,
                    options.Seed + 7919 + run, runTag: (2 * run) + 1);
            }

            var logins = Logins($"run{run + 1}.{loginTag}", options.Users);
            var result = await RunOnceAsync(endpoint, run + 1, connections, options.Requests, logins, draw,
                options.Seed + run, runTag: (2 * run) + 2);
            if (options.Check)
            {
                result = result with { Check = Check(result, options.Max, logins) };
            }

            results.Add(result);
            WriteLine($"run {result.Run}: {result.Connections} connections, {result.Requests} requests in {result.Seconds:F2} s = "
                + $"{result.RequestsPerSecond:F0} requests/s; latency p50 {result.LatencyMs(0.50):F3} ms, p99 {result.LatencyMs(0.99):F3} ms, "
                + $"p99.9 {result.LatencyMs(0.999):F3} ms; DUNNO {result.Dunno}, other {result.Other} (DEFER_IF_PERMIT {result.Deferred}, "
                + $"unexpected {result.Unexpected}); {result.AllocatedPerRequest:F0} B allocated per request (process), "
                + $"GCs gen0/1/2 {result.Gen0}/{result.Gen1}/{result.Gen2}");
            if (result.FirstUnexpected is not null)
            {
                WriteLine($"  first unexpected answer: {result.FirstUnexpected}");
            }

            if (result.Check is not null)
            {
                WriteLine($"  check: {result.Check}");
            }
        }

        WriteLine("");
        WriteLine("| connections | requests | seconds | requests/s | p50 ms | p99 ms | p99.9 ms | DUNNO | other | alloc B/req | check |");
        WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|");
        foreach (var r in results)
        {
            WriteLine($"| {r.Connections} | {r.Requests} | {r.Seconds:F2} | {r.RequestsPerSecond:F0} | {r.LatencyMs(0.50):F3} | "
                + $"{r.LatencyMs(0.99):F3} | {r.LatencyMs(0.999):F3} | {r.Dunno} | {r.Other} | {r.AllocatedPerRequest:F0} | "
                + $"{(r.Check is null ? "-" : r.Check.StartsWith("PASS", StringComparison.Ordinal) ? "PASS" : "FAIL")} |");
        }

        WriteLine("");
        WriteLine($"Machine: {Machine()}. Client and {(server is null ? "an external server" : "server in one process")}; "
            + $"{options.Users} users, Zipf s={options.ZipfExponent}; one DATA-state request in flight per connection.");
        return results.Any(r => r.Check is not null && !r.Check.StartsWith("PASS", StringComparison.Ordinal)) ? 1 : 0;
    }

    private static async Task<LoadRunResult> RunOnceAsync(EndPoint endpoint, int run, int connections, int requests,
        byte[][] logins, ZipfDistribution draw, int seed, int runTag)
    {
        var latencies = new long[requests];
        var clients = new List<PolicyClient>(connections);
        var shares = new List<ConnectionRun>(connections);
        try
        {
            var offset = 0;
            for (var c = 0; c < connections; c++)
            {
                clients.Add(await PolicyClient.ConnectAsync(endpoint, c));
                var count = (requests / connections) + (c < requests % connections ? 1 : 0);

                // Message numbers unique per run and connection: they become queue_id and instance.
                var firstMessage = ((long)runTag << 40) + ((long)c << 24);
                shares.Add(new ConnectionRun(logins, draw, (seed * 65_537) + c, count, latencies, offset, firstMessage));
                offset += count;
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var started = Stopwatch.GetTimestamp();
            var tasks = new Task[connections];
            for (var c = 0; c < connections; c++)
            {
                tasks[c] = clients[c].RunAsync(shares[c]);
            }

            await Task.WhenAll(tasks);
            var elapsed = Stopwatch.GetElapsedTime(started);
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;

            Array.Sort(latencies);
            var sent = new int[logins.Length];
            var accepted = new int[logins.Length];
            foreach (var share in shares)
            {
                for (var u = 0; u < logins.Length; u++)
                {
                    sent[u] += share.Sent[u];
                    accepted[u] += share.Accepted[u];
                }
            }

            return new LoadRunResult
            {
                Run = run,
                Connections = connections,
                Requests = requests,
                Seconds = elapsed.TotalSeconds,
                SortedLatencies = latencies,
                Dunno = shares.Sum(s => s.Dunno),
                Deferred = shares.Sum(s => s.Deferred),
                Unexpected = shares.Sum(s => s.Unexpected),
                FirstUnexpected = shares.Select(s => s.FirstUnexpected).FirstOrDefault(s => s is not null),
                Sent = sent,
                Accepted = accepted,
                AllocatedPerRequest = (double)allocated / requests,
                Gen0 = GC.CollectionCount(0) - gen0,
                Gen1 = GC.CollectionCount(1) - gen1,
                Gen2 = GC.CollectionCount(2) - gen2,
            };
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    // Exact enforcement: a fresh account/messages rule accepts a login's first max messages and defers every later one.
    private static string Check(LoadRunResult result, long max, byte[][] logins)
    {
        var wrong = 0;
        string? first = null;
        for (var u = 0; u < result.Sent.Length; u++)
        {
            var expected = Math.Min(result.Sent[u], max);
            if (result.Accepted[u] != expected)
            {
                wrong++;
                first ??= $"{Encoding.UTF8.GetString(logins[u])} sent {result.Sent[u]}, got {result.Accepted[u]} DUNNO, expected {expected}";
            }
        }

        var users = result.Sent.Count(s => s > 0);
        var limited = result.Sent.Count(s => s > max);
        if (wrong == 0 && result.Unexpected == 0)
        {
            return $"PASS: {users} users each got exactly min(sent, {max}) DUNNO; {limited} of them reached the limit";
        }

        return $"FAIL: {wrong} of {users} users got the wrong number of DUNNO answers"
            + (first is null ? "" : $" (first: {first})")
            + (result.Unexpected == 0 ? "" : $"; {result.Unexpected} answers were neither DUNNO nor DEFER_IF_PERMIT");
    }

    private static byte[][] Logins(string prefix, int users)
    {
        var logins = new byte[users][];
        for (var u = 0; u < users; u++)
        {
            logins[u] = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{prefix}user{u}@example.com"));
        }

        return logins;
    }

    private static async Task<EndPoint> ResolveAsync(string target)
    {
        if (target.StartsWith("unix:", StringComparison.Ordinal))
        {
            return new UnixDomainSocketEndPoint(target["unix:".Length..]);
        }

        if (IPEndPoint.TryParse(target, out var ip) && ip.Port != 0)
        {
            return ip;
        }

        var colon = target.LastIndexOf(':');
        if (colon > 0 && int.TryParse(target.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536)
        {
            var addresses = await Dns.GetHostAddressesAsync(target[..colon]);
            if (addresses.Length > 0)
            {
                return new IPEndPoint(addresses[0], port);
            }
        }

        throw new ArgumentException($"--target '{target}' is not host:port or unix:PATH");
    }

    private static string Machine()
    {
        string? cpu = null;
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        }
        catch (IOException)
        {
            // Not Linux: the processor count below still says how much CPU there was.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }

        return $"{Environment.ProcessorCount} logical CPUs{(cpu is null ? "" : $" ({cpu})")}, {RuntimeInformation.OSDescription} "
            + $"{RuntimeInformation.OSArchitecture}, {RuntimeInformation.FrameworkDescription}, "
            + $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC";
    }

    private static void WriteLine(string line) => Console.WriteLine(line);
}
