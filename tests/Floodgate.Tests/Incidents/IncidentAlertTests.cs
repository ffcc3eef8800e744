using System.Diagnostics;
using System.Text.Json.Nodes;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Incidents;

/// <summary>The admin's story end to end: a flood, one suspension, one incident, one alert email at a real SMTP receiver.</summary>
public class IncidentAlertTests
{
    [Fact]
    public async Task Flood_OfTenThousandMessages_OpensOneIncident_AndSendsExactlyOneAlertEmail()
    {
        Floodgate.Tests.Postfix.PostfixInstance.Require();
        var folder = Directory.CreateTempSubdirectory("floodgate-alert-").FullName;
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111);
        var port = FreePort.Next();
        using var sink = Process.Start(new ProcessStartInfo("/usr/sbin/smtp-sink", $"-u postfix -d {folder}/%M. 127.0.0.1:{port} 16")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("smtp-sink (Debian's postfix package) is needed: run ./test.sh");
        try
        {
            await using var server = await TestServer.StartAsync($"""
                limits:
                  - {"{"} name: hourly, scope: account, unit: recipients, max: 100, per: 1h, action: suspend {"}"}
                alerts:
                  email: {"{"} to: ["postmaster@example.net"], from: "floodgate@example.net", host: 127.0.0.1, port: {port}, tls: none {"}"}
                  retry: {"{"} attempts: 3, first_delay: 200ms {"}"}
                """);

            // 10,000 messages from the hijacked account over 20 connections, as 20 smtpd processes would send them.
            var sent = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, 20), async (c, _) =>
            {
                await using var client = await PolicyClient.ConnectAsync(server.Tcp);
                for (var m = 0; m < 500; m++)
                {
                    await client.AskAsync(PolicyClient.Request("DATA", "mallory@example.com", "mallory@example.com", 2, $"{c}.{m}", $"198.51.100.{c % 4}"));
                    Interlocked.Increment(ref sent);
                }
            });
            Assert.Equal(10_000, sent);

            // The alert goes out in the background; wait for it, then a little longer for any second one.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (Directory.GetFiles(folder).Length == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            await Task.Delay(2000);
            var mails = Directory.GetFiles(folder).Select(File.ReadAllText).ToList();
            var mail = Assert.Single(mails);
            Assert.Contains("mallory@example.com", mail, StringComparison.Ordinal);
            Assert.Contains("hourly", mail, StringComparison.Ordinal);
            Assert.Contains("floodgate release mallory@example.com --deliver", mail, StringComparison.Ordinal);

            var incidents = JsonNode.Parse((await FloodgateCli.AgainstAsync(server, "incidents", "--all", "--json")).Output)!.AsArray();
            var incident = Assert.Single(incidents)!;
            Assert.Equal(10_000 - 50, incident["evidence"]!["refused_messages"]!.GetValue<long>());
            Assert.Equal(4, incident["evidence"]!["client_addresses"]!.AsObject().Count);
            Assert.Contains(incident["timeline"]!.AsArray(), e => e!["kind"]!.GetValue<string>() == "alerted");
        }
        finally
        {
            sink.Kill(entireProcessTree: true);
            await sink.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }
}
