using System.Globalization;
using System.Text.Json.Nodes;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Logs;

/// <summary>`floodgate replay` on a generated Postfix log: peaks per account, what would have acted, suggested limits.</summary>
public class ReplayReportTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);

    // One message as Postfix logs it (RFC 3339 stamps), with a queue id of its own.
    private static IEnumerable<string> Message(int n, DateTimeOffset at, string? login, string sender, int recipients, string agent = "smtp")
    {
        var id = $"Q{n:X8}";
        var stamp = at.ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
        yield return $"{stamp} mx postfix/smtpd[1]: {id}: client=c[192.0.2.{(n % 200) + 1}]" + (login is null ? "" : $", sasl_method=PLAIN, sasl_username={login}");
        yield return $"{stamp} mx postfix/qmgr[2]: {id}: from=<{sender}>, size=2000, nrcpt={recipients} (queue active)";
        for (var r = 0; r < recipients; r++)
        {
            yield return $"{stamp} mx postfix/{agent}[3]: {id}: to=<r{r}@remote.example>, relay=x[198.51.100.1]:25, dsn=2.0.0, status=sent (250 ok)";
        }

        yield return $"{stamp} mx postfix/qmgr[2]: {id}: removed";
    }

    private static string WriteLog()
    {
        var lines = new List<string>();
        var n = 0;

        // Twenty office workers: a message every six minutes through the day, one to three recipients.
        for (var minute = 0; minute < 8 * 60; minute += 6)
        {
            for (var user = 0; user < 20; user++)
            {
                lines.AddRange(Message(n++, Start.AddMinutes(minute).AddSeconds(user), $"user{user}@example.com", $"user{user}@example.com", 1 + (user % 3)));
            }
        }

        // The newsletter: 600 messages in ten minutes at noon.
        for (var i = 0; i < 600; i++)
        {
            lines.AddRange(Message(n++, Start.AddHours(4).AddSeconds(i), "news@example.com", "news@example.com", 1));
        }

        // Inbound mail, delivered to a local mailbox: never replayed.
        lines.AddRange(Message(n++, Start.AddHours(1), null, "someone@elsewhere.example", 1, "lmtp"));
        lines.Add("garbage that is not a log line");
        var path = Path.Combine(Directory.CreateTempSubdirectory("floodgate-replay-").FullName, "mail.log");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string Config(string folder)
    {
        var yml = Path.Combine(folder, "floodgate.yml");
        File.WriteAllText(yml, """
            listen: { policy: ["127.0.0.1:0"], admin: "127.0.0.1:0", relay: [] }
            limits:
              - { name: hourly, scope: account, unit: messages, max: 100, per: 1h, action: suspend }
            """);
        return yml;
    }

    [Fact]
    public async Task Replay_ReportsPeaks_WhatWouldHaveActed_AndSuggestsLimitsWithAnOverrideForTheNewsletter()
    {
        var log = WriteLog();
        var replay = await FloodgateCli.RunAsync("replay", "--config", Config(Path.GetDirectoryName(log)!), log);
        Assert.True(replay.Exit == 0, replay.Error);
        var report = replay.Output;

        Assert.Contains("messages replayed, 1 inbound and 0 refused by the server left out", report, StringComparison.Ordinal);
        Assert.Contains("1 skipped", report, StringComparison.Ordinal);

        // The newsletter's 101st message of the hour tripped the suspend limit; the office workers' limits never acted.
        var news = report.Split('\n').Single(l => l.StartsWith("news@example.com", StringComparison.Ordinal));
        Assert.Contains("hourly (hold) at 2026-11-30T12:01:40Z after 100 messages", news, StringComparison.Ordinal);
        Assert.Contains("   600 ", news, StringComparison.Ordinal);
        Assert.All(report.Split('\n').Where(l => l.StartsWith("user", StringComparison.Ordinal)), l => Assert.EndsWith(" -", l.TrimEnd(), StringComparison.Ordinal));

        // Office workers send 10 an hour: the 95th percentile, doubled, is 20; the newsletter gets its own 1200.
        Assert.Contains("  - { name: hourly, scope: account, unit: messages, max: 20, per: 1h, action: suspend }   # configured: 100", report, StringComparison.Ordinal);
        Assert.Contains("  \"news@example.com\": { hourly: 1200 }", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayJson_HasOneStableObjectPerRefusedMessageAndPerSuspension()
    {
        var log = WriteLog();
        var replay = await FloodgateCli.RunAsync("replay", "--json", "--config", Config(Path.GetDirectoryName(log)!), log);
        Assert.True(replay.Exit == 0, replay.Error);
        var lines = replay.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

        Assert.Equal(501, lines.Count);
        var first = lines[0];
        Assert.Equal(["time", "account", "queue_id", "verdict", "cause", "rule"], first.Select(p => p.Key));
        Assert.Equal("2026-11-30T12:01:40Z", (string?)first["time"]);
        Assert.Equal("news@example.com", (string?)first["account"]);
        Assert.Equal("hold", (string?)first["verdict"]);
        Assert.Equal("hourly", (string?)first["rule"]);
        Assert.Equal(["time", "account", "event", "cause"], lines[1].Select(p => p.Key));
        Assert.Equal("suspended", (string?)lines[1]["event"]);
        Assert.All(lines.Skip(2), l => Assert.Null(l["rule"]));
        Assert.All(lines.Skip(2), l => Assert.StartsWith("suspended: ", (string?)l["cause"], StringComparison.Ordinal));
    }
}
