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
    // Warm-up messages are numbered far above any run's, so no queue_id or instance repeats on one server.
    private const long WarmupMessages = 1L << 60;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        LoadOptions options = null!;
        if (await ToolArguments.ParseAsync(args, LoadOptions.Usage, LoadOptions.Parse, o => options = o) is { } exit)
        {
            return exit;
        }

        if (options.Target is null)
        {
            return await RunInProcessAsync(options);
        }

        try
        {
            // An external server keeps counters between invocations: logins of this invocation are its own.
            var loginTag = Random.Shared.Next(0x1000000).ToString("x6", CultureInfo.InvariantCulture) + ".";
            return (await RunAllAsync(options, await ResolveAsync(options.Target), null, loginTag)).Exit;
        }
        catch (Exception e) when (e is SocketException or IOException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"load: {options.Target}: {e.Message}");
            return 3;
        }
    }

    // One in-process server per store, each measured with the same runs; with several stores, a table side by side.
    private static async Task<int> RunInProcessAsync(LoadOptions options)
    {
        PrivateRedis? redis = null;
        var exit = 0;
        var measured = new List<(string Store, List<LoadRunResult> Results)>();
        try
        {
            foreach (var store in options.Stores)
            {
                if (store == "redis")
                {
                    redis ??= await PrivateRedis.StartAsync();
                }

                await using var server = await InProcessFloodgate.StartAsync(options.Max, options.Log, store == "redis" ? redis!.Connection : null,
                    journal: store != "snapshot");
                WriteLine($"== store: {store switch
                {
                    "redis" => "redis (a private redis-server on loopback, fail mode closed)",
                    "snapshot" => "embedded, counters.durability: snapshot (memory, saved every snapshot interval)",
                    _ => "embedded (memory, every count in the fsynced counter journal)",
                }}");
                var (code, results) = await RunAllAsync(options, server.Endpoint, server, "");
                exit = Math.Max(exit, code);
                measured.Add((store, results));
                WriteLine("");
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ArgumentException or Peers.PeerException)
        {
            await Console.Error.WriteLineAsync($"load: the in-process server: {e.Message}");
            return 3;
        }
        finally
        {
            redis?.Dispose();
        }

        if (measured.Count > 1)
        {
            // The first store named is the baseline of the ratio column.
            WriteLine($"| store | connections | requests/s | p50 ms | p99 ms | check | ÷ {measured[0].Store} |");
            WriteLine("|:---|---:|---:|---:|---:|:---|---:|");
            var embedded = measured[0].Results;
            foreach (var (store, results) in measured)
            {
                foreach (var r in results)
                {
                    var baseline = embedded?.FirstOrDefault(b => b.Connections == r.Connections);
                    WriteLine($"| {store} | {r.Connections} | {r.RequestsPerSecond:F0} | {r.LatencyMs(0.50):F3} | {r.LatencyMs(0.99):F3} | "
                        + $"{(r.Check is null ? "-" : r.Check.StartsWith("PASS", StringComparison.Ordinal) ? "PASS" : "FAIL")} | "
                        + $"{(baseline is null ? "-" : (r.RequestsPerSecond / baseline.RequestsPerSecond).ToString("F2", CultureInfo.InvariantCulture))} |");
                }
            }
        }

        return exit;
    }

    private static async Task<(int Exit, List<LoadRunResult> Results)> RunAllAsync(LoadOptions options, EndPoint endpoint, InProcessFloodgate? server, string loginTag)
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
                await RunOnceAsync(endpoint, new LoadRunPlan
                {
                    Run = run + 1,
                    Connections = connections,
                    Requests = options.WarmupRequests,
                    Logins = Logins($"warm{run + 1}.{loginTag}", options.Users),
                    Draw = draw,
                    Seed = options.Seed + 7919 + run,
                    RunTag = (2 * run) + 1,
                });
            }

            var logins = Logins($"run{run + 1}.{loginTag}", options.Users);
            using var sampler = options.Allocations ? new AllocationSampler() : null;
            sampler?.Start();
            var result = await RunOnceAsync(endpoint, new LoadRunPlan
            {
                Run = run + 1,
                Connections = connections,
                Requests = options.Requests,
                Logins = logins,
                Draw = draw,
                Seed = options.Seed + run,
                RunTag = (2 * run) + 2,
            });
            var sampled = sampler?.Stop(top: 15);
            if (options.Check)
            {
                result = result with { Check = Check(result, options.Max, logins) };
            }

            results.Add(result);
            WriteLine($"run {result.Run}: {result.Connections} connections, {result.Requests} requests in {result.Seconds:F2} s = "
                + $"{result.RequestsPerSecond:F0} requests/s; latency p50 {result.LatencyMs(0.50):F3} ms, p99 {result.LatencyMs(0.99):F3} ms, "
                + $"p99.9 {result.LatencyMs(0.999):F3} ms; DUNNO {result.Accepts}, other {result.Other} (DEFER_IF_PERMIT {result.Deferred}, "
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

            foreach (var (type, bytes, share) in sampled ?? [])
            {
                WriteLine($"  allocated (sampled): {share,6:P1} {(double)bytes / result.Requests,8:F1} B/req  {type}");
            }
        }

        WriteLine("");
        WriteLine("| connections | requests | seconds | requests/s | p50 ms | p99 ms | p99.9 ms | DUNNO | other | alloc B/req | check |");
        WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|");
        foreach (var r in results)
        {
            WriteLine($"| {r.Connections} | {r.Requests} | {r.Seconds:F2} | {r.RequestsPerSecond:F0} | {r.LatencyMs(0.50):F3} | "
                + $"{r.LatencyMs(0.99):F3} | {r.LatencyMs(0.999):F3} | {r.Accepts} | {r.Other} | {r.AllocatedPerRequest:F0} | "
                + $"{(r.Check is null ? "-" : r.Check.StartsWith("PASS", StringComparison.Ordinal) ? "PASS" : "FAIL")} |");
        }

        WriteLine("");
        WriteLine($"Machine: {Machine()}. Client and {(server is null ? "an external server" : "server in one process")}; "
            + $"{options.Users} users, Zipf s={options.ZipfExponent}; one DATA-state request in flight per connection.");
        return (results.Any(r => r.Check is not null && !r.Check.StartsWith("PASS", StringComparison.Ordinal)) ? 1 : 0, results);
    }

    /// <summary>
    /// Connects the plan's connections, sends its warm-up, then its measured requests, and reports what they saw.
    /// </summary>
    /// <exception cref="TimeoutException">Connecting, the warm-up and the run took longer than the plan's timeout.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> was cancelled; the connections are closed.</exception>
    public static async Task<LoadRunResult> RunOnceAsync(EndPoint endpoint, LoadRunPlan plan, CancellationToken cancel = default)
    {
        var budget = Stopwatch.StartNew();
        var connections = plan.Connections;
        var latencies = new long[plan.Requests];
        var clients = new List<PolicyClient>(connections);
        var shares = new List<ConnectionRun>(connections);
        var warmups = new List<ConnectionRun>(connections);
        try
        {
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                connecting.CancelAfter(Remaining(plan.Timeout, budget));
                for (var c = 0; c < connections; c++)
                {
                    try
                    {
                        clients.Add(await PolicyClient.ConnectAsync(endpoint, c, connecting.Token));
                    }
                    catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                    {
                        throw new TimeoutException($"{c} of {connections} connections were open after {plan.Timeout.TotalSeconds:F0} s");
                    }
                }
            }

            var offset = 0;
            var warmOffset = 0;
            var warmLatencies = new long[plan.WarmupRequests];
            for (var c = 0; c < connections; c++)
            {
                var count = Share(plan.Requests, connections, c);

                // Message numbers unique per run and connection: they become queue_id and instance.
                var firstMessage = ((long)plan.RunTag << 40) + ((long)c << 24);
                shares.Add(new ConnectionRun(plan.Logins, plan.Draw, (plan.Seed * 65_537) + c, count, latencies, offset, firstMessage, plan.State));
                offset += count;
                if (plan.WarmupRequests > 0)
                {
                    var warmCount = Share(plan.WarmupRequests, connections, c);
                    warmups.Add(new ConnectionRun(plan.WarmupLogins ?? plan.Logins, plan.Draw, (plan.Seed * 65_537) + 7919 + c, warmCount,
                        warmLatencies, warmOffset, WarmupMessages + firstMessage, plan.State));
                    warmOffset += warmCount;
                }
            }

            if (plan.WarmupRequests > 0)
            {
                await RunPhaseAsync(clients, warmups, plan, budget, "the warm-up", cancel);
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var started = Stopwatch.GetTimestamp();
            await RunPhaseAsync(clients, shares, plan, budget, "the run", cancel);
            var elapsed = Stopwatch.GetElapsedTime(started);
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;

            Array.Sort(latencies);
            var sent = new int[plan.Logins.Length];
            var accepted = new int[plan.Logins.Length];
            foreach (var share in shares)
            {
                for (var u = 0; u < plan.Logins.Length; u++)
                {
                    sent[u] += share.Sent[u];
                    accepted[u] += share.Accepted[u];
                }
            }

            return new LoadRunResult
            {
                Run = plan.Run,
                Connections = connections,
                Requests = plan.Requests,
                Seconds = elapsed.TotalSeconds,
                SortedLatencies = latencies,
                Accepts = shares.Sum(s => s.Accepts),
                Deferred = shares.Sum(s => s.Deferred),
                Unexpected = shares.Sum(s => s.Unexpected),
                FirstUnexpected = shares.Select(s => s.FirstUnexpected).FirstOrDefault(s => s is not null),
                Sent = sent,
                Accepted = accepted,
                AllocatedPerRequest = (double)allocated / plan.Requests,
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

    /// <summary>The logins <c>{prefix}user{n}@example.com</c> for n from 0 to users - 1, as UTF-8.</summary>
    public static byte[][] Logins(string prefix, int users)
    {
        var logins = new byte[users][];
        for (var u = 0; u < users; u++)
        {
            logins[u] = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{prefix}user{u}@example.com"));
        }

        return logins;
    }

    private static int Share(int requests, int connections, int c) => (requests / connections) + (c < requests % connections ? 1 : 0);

    private static TimeSpan Remaining(TimeSpan timeout, Stopwatch budget) =>
        timeout == Timeout.InfiniteTimeSpan ? timeout : TimeSpan.FromTicks(Math.Max(0, (timeout - budget.Elapsed).Ticks));

    private static async Task RunPhaseAsync(List<PolicyClient> clients, List<ConnectionRun> shares, LoadRunPlan plan, Stopwatch budget,
        string phase, CancellationToken cancel)
    {
        var tasks = new Task[clients.Count];
        for (var c = 0; c < clients.Count; c++)
        {
            tasks[c] = clients[c].RunAsync(shares[c]);
        }

        var all = Task.WhenAll(tasks);
        try
        {
            await all.WaitAsync(Remaining(plan.Timeout, budget), cancel);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Closing the sockets ends the sends and receives still waiting on a server that stopped answering.
            foreach (var client in clients)
            {
                client.Dispose();
            }

            try
            {
                await all;
            }
            catch (Exception)
            {
                // The clients failed because their sockets were closed: the timeout is the news.
            }

            if (e is OperationCanceledException)
            {
                throw;
            }

            var answered = shares.Sum(s => s.Accepts + s.Deferred + s.Unexpected);
            throw new TimeoutException($"{phase} had {answered} of {shares.Sum(s => s.Count)} answers when the {plan.Timeout.TotalSeconds:F0} s timeout ran out");
        }
    }

    // Exact enforcement: a fresh account/messages rule accepts a login's first max messages and defers every later one.
    private static string Check(LoadRunResult result, long max, byte[][] logins)
    {
        var check = EnforcementCheck.Of(result, max, logins);
        if (check.Exact && result.Unexpected == 0)
        {
            return $"PASS: {check.Users} users each got exactly min(sent, {max}) DUNNO; {check.Limited} of them reached the limit";
        }

        return $"FAIL: {check.Wrong} of {check.Users} users got the wrong number of DUNNO answers"
            + (check.FirstWrong is null ? "" : $" (first: {check.FirstWrong})")
            + (result.Unexpected == 0 ? "" : $"; {result.Unexpected} answers were neither DUNNO nor DEFER_IF_PERMIT");
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

    /// <summary>The processor, OS, runtime and GC mode, for the report.</summary>
    public static string Machine()
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
