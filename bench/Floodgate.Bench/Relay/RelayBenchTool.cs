using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using Floodgate.Bench.Load;
using Floodgate.Bench.Peers;

namespace Floodgate.Bench.Relay;

/// <summary>
/// End-to-end relay throughput: the same messages sent by the same client to Floodgate's relay and to a private
/// Postfix, each relaying to its own Debian smtp-sink, timed until the sink has every message; one Markdown table.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class RelayBenchTool
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        RelayBenchOptions options = null!;
        if (await ToolArguments.ParseAsync(args, RelayBenchOptions.Usage, RelayBenchOptions.Parse, o => options = o) is { } exit)
        {
            return exit;
        }

        var missing = new[] { CountingSink.Program, PostfixRelay.Program }.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0 || !Environment.IsPrivilegedProcess)
        {
            await Console.Error.WriteLineAsync(missing.Count > 0
                ? $"relay: needs {string.Join(" and ", missing)} from Debian's postfix package (DEBIAN_FRONTEND=noninteractive apt-get install postfix; ./test.sh installs it)"
                : "relay: starts a private Postfix, which must be started as root; run it as root");
            return 2;
        }

        return await ToolFolder.RunAsync("relay-bench", options.Keep, async (folder, cancel) =>
        {
            try
            {
                return await RunAllAsync(options, folder, cancel);
            }
            catch (PeerException e)
            {
                await Console.Error.WriteLineAsync($"relay: {e.Message}");
                return 1;
            }
        });
    }

    private static async Task<int> RunAllAsync(RelayBenchOptions options, string folder, CancellationToken cancel)
    {
        // Postfix's daemons run as the postfix account and must reach their folders inside this one.
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        Console.WriteLine($"{options.Messages} messages of {options.Size} bytes per run, one recipient each, 100 senders; "
            + $"timed from the first MAIL FROM until the sink has received the last message; {options.Warmup} unmeasured messages per server first");
        Console.WriteLine($"machine: {LoadTool.Machine()}; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        var (_, postfixVersion) = await ChildProcess.RunAsync("/usr/sbin/postconf", ["-h", "mail_version"], TimeSpan.FromSeconds(10), cancel);
        Console.WriteLine($"Postfix {postfixVersion.Trim()} (Debian), smtp-sink dumping to /dev/shm");

        await using var floodgate = new FloodgateRelay(Directory.CreateDirectory(Path.Combine(folder, "floodgate")).FullName,
            await CountingSink.StartAsync("floodgate", StartTimeout, cancel));
        await using var postfix = new PostfixRelay(Directory.CreateDirectory(Path.Combine(folder, "postfix")).FullName,
            await CountingSink.StartAsync("postfix", StartTimeout, cancel));
        RelayUnderTest[] servers = [floodgate, postfix];
        try
        {
            foreach (var server in servers)
            {
                await server.StartAsync(StartTimeout, cancel);
                Console.WriteLine($"{server.Name}: listening on {server.Endpoint}, next hop smtp-sink on {server.Sink.Endpoint}");
                if (options.Warmup > 0)
                {
                    await MeasureAsync(server, options.Connections[0], options.Warmup, options, "warm", cancel);
                }
            }

            Console.WriteLine();
            var rows = new List<(string Server, int Connections, Measurement Result)>();
            foreach (var connections in options.Connections)
            {
                // Side by side: each connection count is run on every server before the next count.
                foreach (var server in servers)
                {
                    var result = await MeasureAsync(server, connections, options.Messages, options, $"c{connections}", cancel);
                    Console.WriteLine($"{server.Name}, {connections} connections: {result.Delivered} of {options.Messages} at the sink, "
                        + $"accepted in {result.Accepted.TotalSeconds:F2} s, all at the sink after {result.EndToEnd.TotalSeconds:F2} s");
                    rows.Add((server.Name, connections, result));
                }
            }

            Console.WriteLine();
            Console.WriteLine($"load average after the runs: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine();
            Console.WriteLine("| server | connections | messages at the sink | accepted msgs/s | end-to-end msgs/s | ÷ Postfix (end-to-end) |");
            Console.WriteLine("|:---|---:|---:|---:|---:|---:|");
            foreach (var (server, connections, result) in rows)
            {
                var baseline = rows.First(r => r.Server == postfix.Name && r.Connections == connections).Result;
                Console.WriteLine($"| {server} | {connections} | {result.Delivered} of {options.Messages} | {options.Messages / result.Accepted.TotalSeconds:F0} | "
                    + $"{options.Messages / result.EndToEnd.TotalSeconds:F0} | {baseline.EndToEnd / result.EndToEnd:F2}× |");
            }

            Console.WriteLine();
            foreach (var server in servers)
            {
                Console.WriteLine($"{server.Name}:\n```\n{server.Setup.TrimEnd()}\n```");
            }

            return rows.All(r => r.Result.Delivered == options.Messages) ? 0 : 1;
        }
        finally
        {
            foreach (var server in servers)
            {
                server.Sink.Dispose();
            }
        }
    }

    private static async Task<Measurement> MeasureAsync(RelayUnderTest server, int connections, int messages, RelayBenchOptions options, string tag,
        CancellationToken cancel)
    {
        server.Sink.Clear();
        var body = Body(options.Size);
        var clients = new List<SmtpLoadClient>();
        try
        {
            for (var i = 0; i < connections; i++)
            {
                clients.Add(await SmtpLoadClient.ConnectAsync(server.Endpoint, cancel));
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(options.Timeout);
            var next = -1;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(clients.Select(client => Task.Run(async () =>
            {
                for (var n = Interlocked.Increment(ref next); n < messages; n = Interlocked.Increment(ref next))
                {
                    var sender = $"sender{n % 100}@bench.floodgate.test";
                    await client.SendAsync(sender, $"rcpt{n}@remote.floodgate.test", Headers(sender, tag, n), body.AsMemory(), limit.Token);
                }
            }, limit.Token)));
            var accepted = clock.Elapsed;
            int delivered;
            while ((delivered = server.Sink.Count) < messages)
            {
                if ((server.Failure() ?? server.Sink.Failure()) is { } failure)
                {
                    throw new PeerException($"{server.Name}: {failure}");
                }

                if (limit.IsCancellationRequested)
                {
                    cancel.ThrowIfCancellationRequested();
                    break;
                }

                await Task.Delay(10, CancellationToken.None);
            }

            return new Measurement(accepted, clock.Elapsed, delivered);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static byte[] Headers(string sender, string tag, int n) => Encoding.ASCII.GetBytes(
        $"From: <{sender}>\r\nTo: <rcpt{n}@remote.floodgate.test>\r\nSubject: relay bench {tag} {n}\r\n"
        + $"Message-ID: <{tag}.{n}.{Environment.ProcessId}@bench.floodgate.test>\r\nDate: {DateTimeOffset.UtcNow:R}\r\n\r\n");

    // Plain 76-character lines (none starting with a dot) up to the size, headers included, then the end of data.
    private static byte[] Body(int size)
    {
        const string Line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod temp\r\n";
        var text = new StringBuilder();
        while (text.Length + Line.Length < size - 200)
        {
            text.Append(Line);
        }

        return Encoding.ASCII.GetBytes(text.Append(".\r\n").ToString());
    }

    private sealed record Measurement(TimeSpan Accepted, TimeSpan EndToEnd, int Delivered);
}
