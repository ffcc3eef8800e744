using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Floodgate.Tests.Support;
using Xunit.Abstractions;

namespace Floodgate.Tests.Storage;

/// <summary>
/// The unbounded-state scenario of the hostile-input review at the scale it names: 1,000,000 different logins through
/// the policy listener of the real executable on the embedded default's limits. Counts are saved by snapshots alone
/// (counters.durability: snapshot): the journal's fsync per answer would make the run take minutes, and snapshots are
/// the harder case for memory (each one exports every window changed in its interval). The process
/// stays under 1 GB, every identity is still tracked (the default budget holds them all), and the accounts API and
/// the overview page answer a page from the ranking; their latencies are printed (the README's benchmark quotes them).
/// </summary>
[Collection(SerialGroup.Name)]
public class MillionIdentitiesTests(ITestOutputHelper output)
{
    private const int Identities = 1_000_000;
    private const int Connections = 4;
    private const int Batch = 250;

    [Fact]
    public async Task AMillionLogins_StayUnderOneGigabyte_AndTheAdminSurfacesAnswerAPage()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-million-").FullName;
        var policyPort = FreePort.Next();
        var adminPort = FreePort.Next();
        var data = Path.Combine(folder, "data");
        var config = Path.Combine(folder, "floodgate.yml");

        // The embedded default's limits, identity rules and journal; only the endpoints and the folder are the test's.
        await File.WriteAllTextAsync(config, $$"""
            listen: { policy: ["127.0.0.1:{{policyPort}}"], admin: "127.0.0.1:{{adminPort}}", relay: [] }
            data_dir: {{data}}
            counters: { durability: snapshot }
            log: { decisions: none }
            limits:
              - { name: burst,  scope: account, unit: recipients, max: 60,   per: 1m,  action: defer }
              - { name: hourly, scope: account, unit: recipients, max: 500,  per: 1h,  action: suspend }
              - { name: daily,  scope: account, unit: recipients, max: 2000, per: 24h, action: suspend }
            """);
        var log = new ConcurrentQueue<string>();
        Process? floodgate = null;
        try
        {
            floodgate = await FloodgateProcess.StartAsync(config, policyPort, log.Enqueue);
            await SendAsync(policyPort, 0, 20_000);
            var before = Rss(floodgate);
            var sent = Stopwatch.StartNew();
            var accepted = await SendAsync(policyPort, 20_000, Identities);
            sent.Stop();
            var after = Rss(floodgate);

            using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/") };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(data, "admin.token")).Trim());
            var health = JsonNode.Parse(await admin.GetStringAsync("api/health"))!;
            var (apiFirst, apiMedian, page) = await TimeAsync(admin, "api/accounts?limit=50");
            var (overviewFirst, overviewMedian, _) = await TimeAsync(admin, "");
            var peak = Peak(floodgate);

            output.WriteLine($"{Identities:N0} logins, one message each, over {Connections} connections in {sent.Elapsed.TotalSeconds:F1} s ({Identities / sent.Elapsed.TotalSeconds:N0}/s), {accepted:N0} accepted");
            output.WriteLine($"RSS {before / 1048576.0:F0} MiB after 20,000 warm-up logins, {after / 1048576.0:F0} MiB after {Identities:N0} (peak {peak / 1048576.0:F0} MiB): {(after - before) / (double)(Identities - 20_000):F0} bytes per identity");
            output.WriteLine($"tracked identities: {health["tracked_identities"]}");
            output.WriteLine($"GET /api/accounts?limit=50: first {apiFirst.TotalMilliseconds:F1} ms (ranking made), then median {apiMedian.TotalMilliseconds:F1} ms of 20");
            output.WriteLine($"GET / (overview): first {overviewFirst.TotalMilliseconds:F1} ms, then median {overviewMedian.TotalMilliseconds:F1} ms of 20");

            Assert.Equal(Identities - 20_000, accepted);
            Assert.Equal(Identities, health["tracked_identities"]!.GetValue<int>());
            Assert.Equal(50, JsonNode.Parse(page)!.AsArray().Count);
            Assert.True(after < 1L << 30, $"RSS {after / 1048576.0:F0} MiB with {Identities:N0} identities: over 1 GiB");
            Assert.DoesNotContain(log, l => l.Contains("memory budget", StringComparison.Ordinal));
        }
        finally
        {
            await FloodgateProcess.StopAsync(floodgate);
            Directory.Delete(folder, recursive: true);
        }
    }

    // Each connection pipelines batches of DATA requests (one recipient, a login of their own) and reads the answers.
    private static async Task<int> SendAsync(int port, int first, int last)
    {
        var accepted = 0;
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(c => Task.Run(async () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, port);
            using var stream = new NetworkStream(socket);
            var answers = new byte[64 * 1024];
            var request = new StringBuilder();
            for (var start = first + c; start < last; start += Connections * Batch)
            {
                request.Clear();
                var n = 0;
                for (var i = start; i < last && n < Batch; i += Connections, n++)
                {
                    request.Append("request=smtpd_access_policy\nprotocol_state=DATA\nsasl_username=user").Append(i).Append("@million.example\n")
                        .Append("sender=user").Append(i).Append("@million.example\nrecipient_count=1\nclient_address=192.0.2.1\ninstance=").Append(i).Append("\n\n");
                }

                await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));
                var seen = 0;
                var pending = "";
                while (seen < n)
                {
                    var read = await stream.ReadAsync(answers);
                    if (read == 0)
                    {
                        throw new IOException("the policy service closed the connection");
                    }

                    var text = pending + Encoding.ASCII.GetString(answers, 0, read);
                    var parts = text.Split("\n\n");
                    pending = parts[^1];
                    foreach (var answer in parts[..^1])
                    {
                        seen++;
                        if (answer == "action=DUNNO")
                        {
                            Interlocked.Increment(ref accepted);
                        }
                    }
                }
            }
        })));
        return accepted;
    }

    private static async Task<(TimeSpan First, TimeSpan Median, string Body)> TimeAsync(HttpClient admin, string path)
    {
        var watch = Stopwatch.StartNew();
        var body = await admin.GetStringAsync(path);
        var first = watch.Elapsed;
        var times = new List<TimeSpan>();
        for (var i = 0; i < 20; i++)
        {
            watch.Restart();
            body = await admin.GetStringAsync(path);
            times.Add(watch.Elapsed);
        }

        return (first, times.Order().ElementAt(times.Count / 2), body);
    }

    private static long Rss(Process process) => StatusKiB(process, "VmRSS:") * 1024;

    private static long Peak(Process process) => StatusKiB(process, "VmHWM:") * 1024;

    private static long StatusKiB(Process process, string field) =>
        long.Parse(File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
}
