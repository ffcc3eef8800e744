using System.Globalization;
using Floodgate.Incidents;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Logs;

/// <summary>The live log watch on a Kerio mail.log: a hijacked login is suspended from its log lines, through rotations and a restart, each message counted once.</summary>
public class LogWatchTests
{
    private static int _next;

    private static string Recv(string login, DateTimeOffset at) =>
        $"[{at.ToString("dd/MMM/yyyy HH:mm:ss", CultureInfo.InvariantCulture)}] Recv: Queue-ID: {Interlocked.Increment(ref _next):x8}-00000001, Service: SMTP, "
        + $"From: <{login}>, To: <victim{_next}@remote.example>, Size: 854, Sender-Host: 203.0.113.9, User: {login}, SSL: yes, Subject: hi, Msg-Id: <{_next}@x>";

    private static async Task WaitForAsync(Func<bool> done, string what)
    {
        for (var i = 0; i < 100 && !done(); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(done(), $"waited 10 s for {what}");
    }

    [Fact]
    public async Task LogWatch_SuspendsAHijackedLogin_CountingEachMessageOnce_ThroughRotationsAndARestart()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-watch-").FullName;
        var log = Path.Combine(folder, "mail.log");
        var data = Path.Combine(folder, "data");
        File.WriteAllText(log, "[01/Dec/2026 08:00:00] Recv: Queue-ID: 00000000-0, Service: SMTP, From: <old@example.com>, User: old@example.com\n");
        const string limits = "limits:\n  - { name: hourly, scope: account, unit: messages, max: 10, per: 1h, action: suspend }\n";
        var now = DateTimeOffset.UtcNow;
        int Counted(TestServer s) => s.DecisionLines.Count(l => l.Contains(" listener=log ", StringComparison.Ordinal));

        await using (var first = await TestServer.StartAsync(limits, dataDirectory: data, kerioLogs: [log]))
        {
            await WaitForAsync(() => first.Logs.Lines.Any(l => l.Contains("log watch: following", StringComparison.Ordinal)), "the watch to start");
            File.AppendAllLines(log, Enumerable.Range(0, 3).Select(_ => Recv("carol@example.com", now)));
            await WaitForAsync(() => Counted(first) == 3, "three messages");

            // Rotation by rename, with a line written to the old file just before it.
            File.AppendAllLines(log, [Recv("carol@example.com", now)]);
            File.Move(log, log + ".1");
            File.WriteAllLines(log, [Recv("carol@example.com", now)]);
            await WaitForAsync(() => Counted(first) == 5, "five messages");

            // Rotation by copytruncate.
            File.Copy(log, log + ".2");
            using (var truncate = new FileStream(log, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                truncate.SetLength(0);
            }

            File.AppendAllLines(log, [Recv("carol@example.com", now)]);
            await WaitForAsync(() => Counted(first) == 6, "six messages");
        }

        // Logged while Floodgate was stopped: read on the restart, nothing before them again.
        File.AppendAllLines(log, Enumerable.Range(0, 6).Select(_ => Recv("carol@example.com", now)));
        await using var second = await TestServer.StartAsync(limits, dataDirectory: data, kerioLogs: [log]);
        await WaitForAsync(() => Counted(second) == 6, "the six logged meanwhile");
        await Task.Delay(1000);
        Assert.Equal(6, Counted(second));

        // Eleven of carol's messages in all, against 10 an hour: the eleventh suspended her, with an incident.
        var incident = Assert.Single(second.Service<IncidentBook>().OpenIncidents);
        Assert.Equal("account:carol@example.com", incident.Identity.ToString());
        Assert.Equal(true, incident.Evidence.LoginInvolved);
        Assert.DoesNotContain(second.DecisionLines, l => l.Contains("old@example.com", StringComparison.Ordinal));
    }
}
