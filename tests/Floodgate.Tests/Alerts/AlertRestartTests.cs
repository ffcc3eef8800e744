using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Floodgate.Tests.Support;
using Xunit.Abstractions;

namespace Floodgate.Tests.Alerts;

/// <summary>A restart never announces an incident twice: the real executable is killed with SIGKILL right after its alert email arrived.</summary>
public class AlertRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task KillNine_RightAfterTheAlertWasDelivered_TheRestartDoesNotSendItAgain()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-alert-crash-").FullName;
        await using var sink = await SmtpSink.StartAsync();
        var port = FreePort.Next();
        var adminPort = FreePort.Next();
        var data = Path.Combine(folder, "data");
        var config = Path.Combine(folder, "floodgate.yml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { policy: ["127.0.0.1:{{port}}"], admin: "127.0.0.1:{{adminPort}}" }
            data_dir: {{data}}
            log: { decisions: none }
            limits:
              - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend }
            alerts:
              email: { to: ["postmaster@example.com"], from: "floodgate@example.com", host: 127.0.0.1, port: {{sink.Port}}, tls: none }
              retry: { attempts: 3, first_delay: 1s }
              reminder: 0s
            """);
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        var log = new ConcurrentQueue<string>();
        Process? floodgate = null;
        try
        {
            floodgate = await FloodgateProcess.StartAsync(config, port, log.Enqueue);

            // A first API call costs the cold process its JIT: made before the flood, so the polls below are quick.
            using var admin = await RelayRun.AdminAsync(adminPort, data);
            Assert.Equal(0, await AlertedAsync(admin));
            await using (var client = await PolicyClient.ConnectAsync(endpoint))
            {
                for (var i = 0; i < 5; i++)
                {
                    await client.AskAsync(PolicyClient.Request("DATA", "mallory@example.com", "mallory@example.com", 1, $"m{i}"));
                }
            }

            // The email is at the sink and Floodgate counts it as delivered (the incident's timeline says "alerted" in
            // memory): kill -9 at once, before the timeline's next batched save.
            await Eventually.TrueAsync(() => sink.MessageCount >= 1, "the alert email at the sink");
            var until = DateTime.UtcNow.AddSeconds(10);
            while (await AlertedAsync(admin) == 0)
            {
                Assert.True(DateTime.UtcNow < until, "the incident never recorded its alert");
                await Task.Delay(10);
            }

            floodgate.Kill();
            await floodgate.WaitForExitAsync();
            floodgate.Dispose();

            floodgate = await FloodgateProcess.StartAsync(config, port, log.Enqueue);

            // Past the retry interval (1 s, then 2 s): a second announcement would have gone out by now.
            await Task.Delay(TimeSpan.FromSeconds(4));
            var emails = sink.MessageCount;
            var alerted = await AlertedAsync(admin);
            output.WriteLine($"alert emails at the sink after kill -9 and restart: {emails}; \"alerted\" events in the incident's timeline: {alerted}");
            Assert.Equal(1, emails);
            Assert.True(alerted >= 1, "the restarted Floodgate does not show the incident as alerted");
            Assert.Single(log, l => l.Contains("sent via email", StringComparison.Ordinal));
        }
        catch
        {
            foreach (var line in log.TakeLast(30))
            {
                output.WriteLine(line);
            }

            throw;
        }
        finally
        {
            await FloodgateProcess.StopAsync(floodgate);
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<int> AlertedAsync(HttpClient admin)
    {
        using var incidents = await admin.GetFromJsonAsync<JsonDocument>("api/incidents?open=true");
        return incidents!.RootElement.EnumerateArray()
            .Sum(i => i.GetProperty("timeline").EnumerateArray().Count(e => e.GetProperty("kind").GetString() == "alerted"));
    }
}
