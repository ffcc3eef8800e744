using System.Globalization;
using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Observe;

/// <summary>The live log watch in observe mode: a login that would be suspended is only recorded, and the hook is told so.</summary>
public sealed class ObserveLogWatchTests
{
    [Fact]
    public async Task LogWatch_InObserve_SuspendsNobody_RunsTheHookOnceWithModeObserve()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-observe-watch-").FullName;
        try
        {
            var log = Path.Combine(folder, "mail.log");
            File.WriteAllText(log, "");
            var script = EnvHook.Write(folder);
            await using var server = await TestServer.StartAsync($$"""
                mode: observe
                limits:
                  - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend }
                alerts:
                  command: { run: {{script}}, args: ["{{folder}}"] }
                """, kerioLogs: [log]);
            await Eventually.TrueAsync(() => server.Logs.Lines.Any(l => l.Contains("log watch: following", StringComparison.Ordinal)), "the watch to start");

            var now = DateTimeOffset.UtcNow.ToString("dd/MMM/yyyy HH:mm:ss", CultureInfo.InvariantCulture);
            File.AppendAllLines(log, Enumerable.Range(0, 8).Select(i =>
                $"[{now}] Recv: Queue-ID: 5{i:x7}-00000001, Service: SMTP, From: <carol@example.com>, To: <v{i}@remote.example>, Size: 854, Sender-Host: 203.0.113.9, User: carol@example.com, SSL: yes, Subject: hi, Msg-Id: <{i}@x>"));
            await Eventually.TrueAsync(() => server.DecisionLines.Count(l => l.Contains(" listener=log ", StringComparison.Ordinal)) == 8, "eight logged messages decided");
            await Eventually.TrueAsync(() => server.Logs.Lines.Any(l => l.Contains("alert observed sent via command", StringComparison.Ordinal)), "the hook to run");

            Assert.Equal(5, server.DecisionLines.Count(l => l.Contains(" mode=observe would_have=hold ", StringComparison.Ordinal)));
            Assert.Null(await server.Accounts.FindSuspensionAsync(new IdentityKeys("carol@example.com", null, null, null)));
            Assert.Empty(server.Service<IncidentBook>().OpenIncidents);
            var observed = Assert.Single(server.Service<IncidentBook>().ObservedIncidents);
            Assert.True(observed.IsObserveOnly);
            var env = EnvHook.Read(Assert.Single(EnvHook.Runs(folder)));
            Assert.Equal("observe", env["FLOODGATE_MODE"]);
            Assert.Equal("observed", env["FLOODGATE_EVENT"]);
            Assert.Equal("yes", env["FLOODGATE_LOGIN"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
