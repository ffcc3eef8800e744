using System.Diagnostics;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Dashboard;
using Floodgate.Tests.Support;
using Xunit.Abstractions;

namespace Floodgate.Tests.Storage;

/// <summary>
/// The review's disk-full finding, on a real full file system: the data directory is a 4 MiB tmpfs, filled to the last
/// byte. Suspend limits keep working (they held nothing before the fix: the failed write fell through to fail-open
/// DUNNO), the admin hears "store degraded" once, and once space is freed the suspensions reach the disk and survive a restart.
/// </summary>
[Collection(SerialGroup.Name)]
public class DiskFullTests(ITestOutputHelper output)
{
    [Fact]
    public async Task FullDisk_SuspensionsStillHold_StoreDegradedAlertsOnce_AndTheyAreSavedWhenSpaceReturns()
    {
        var data = Directory.CreateTempSubdirectory("floodgate-full-").FullName;
        Mount(data);
        try
        {
            await using var hook = await HookReceiver.StartAsync((_, _) => Task.FromResult(200));
            var yaml = $$"""
                limits:
                  - { name: hourly, scope: account, unit: recipients, max: 500, per: 1h, action: suspend }
                alerts:
                  webhook: { url: "{{hook.Url("/hook")}}" }
                """;
            var server = await TestServer.StartAsync(yaml, dataDirectory: data);
            try
            {
                await using var client = await PolicyClient.ConnectAsync(server.Tcp);
                Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "warm@example.com", "warm@example.com", 1, "w")));
                var filler = Fill(data);
                output.WriteLine($"filled the 4 MiB tmpfs with {filler / 1024} KiB");

                // Five requests of 501 recipients in a row, each from its own login: each is over the limit and suspends.
                var answers = new List<string>();
                for (var i = 0; i < 5; i++)
                {
                    answers.Add(await client.AskAsync(PolicyClient.Request("DATA", $"hijacked{i}@example.com", $"hijacked{i}@example.com", 501, $"h{i}")));
                }

                output.WriteLine("answers on the full disk: " + string.Join(", ", answers));
                Assert.All(answers, a => Assert.StartsWith("HOLD", a, StringComparison.Ordinal));
                Assert.StartsWith("HOLD", await client.AskAsync(PolicyClient.Request("DATA", "hijacked0@example.com", "hijacked0@example.com", 1, "again")),
                    StringComparison.Ordinal);

                using var admin = new HttpClient { BaseAddress = new Uri(server.AdminUrl) };
                admin.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminToken);
                await Eventually.TrueAsync(() => hook.Subjects().Contains("[Floodgate] store degraded"), "the store degraded alert");
                Assert.Equal(1d, PrometheusText.Sum(PrometheusText.Parse(await admin.GetStringAsync("metrics")), "floodgate_store_degraded"));
                Assert.Contains(server.Logs.Lines, l => l.Contains("store degraded", StringComparison.Ordinal));

                // Space returns: the suspensions written by the retry, the alert that says so, and the metric back at 0.
                File.Delete(Path.Combine(data, "filler"));
                await Eventually.TrueAsync(() => hook.Subjects().Contains("[Floodgate] store recovered"), "the store recovered alert");
                Assert.Equal(0d, PrometheusText.Sum(PrometheusText.Parse(await admin.GetStringAsync("metrics")), "floodgate_store_degraded"));
                Assert.Single(hook.Subjects(), s => s == "[Floodgate] store degraded");
                output.WriteLine("alerts: " + string.Join(" | ", hook.Subjects()));
            }
            finally
            {
                await server.DisposeAsync();
            }

            // After a restart on the same data directory every suspension made on the full disk is still there.
            await using var again = await TestServer.StartAsync(yaml, dataDirectory: data);
            var suspended = (await again.Accounts.ListSuspensionsAsync()).Select(s => s.Identity.Key).Order().ToList();
            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"hijacked{i}@example.com"), suspended);
        }
        finally
        {
            Run("umount", data);
            Directory.Delete(data, recursive: true);
        }
    }


    private static long Fill(string folder)
    {
        var written = 0L;
        var block = new byte[64 * 1024];
        using var file = new FileStream(Path.Combine(folder, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
        try
        {
            while (true)
            {
                file.Write(block);
                written += block.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. Fill the last partial block too.
            for (var size = block.Length / 2; size > 0; size /= 2)
            {
                try
                {
                    file.Write(block, 0, size);
                    written += size;
                }
                catch (IOException)
                {
                }
            }
        }

        return written;
    }

    private static void Mount(string folder)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            Assert.Fail("this test mounts a small tmpfs to fill a disk: run ./test.sh as root on Linux (CI does)");
        }

        Run("mount", $"-t tmpfs -o size=4m tmpfs {folder}");
    }

    private static void Run(string command, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {arguments}: {process.StandardError.ReadToEnd()}");
        }
    }
}
