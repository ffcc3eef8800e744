using System.Globalization;
using System.Text.Json.Nodes;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Storage;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Engine;

/// <summary>
/// The recipient units beside messages and recipients: external recipients (outside local_domains), unique recipients
/// (which need the addresses: Postfix sends them only at RCPT) and failed recipients (counted from outcomes).
/// </summary>
public class RecipientUnitTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private static FloodgateOptions Parse(string yaml) => ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>());

    [Fact]
    public void LocalDomains_NamesAndPatterns_WithoutCase_AndAnAddressWithoutDomainIsLocal()
    {
        var local = Parse("""
            local_domains: [example.com, "*.example.org"]
            limits:
              - { name: out, scope: account, unit: external_recipients, max: 500, per: 1h, action: suspend }
            """).Rules.LocalDomains;
        Assert.True(local.IsLocal("Bob@EXAMPLE.com"));
        Assert.True(local.IsLocal("<carol@mail.eu.example.org>"));
        Assert.True(local.IsLocal("postmaster"));
        Assert.False(local.IsLocal("dave@example.org"));
        Assert.False(local.IsLocal("eve@notexample.com"));
        Assert.False(local.IsLocal("eve@example.com.evil.test"));
    }

    [Theory]
    [InlineData("local_domains: [\"bob@example.com\"]\n", "local_domains: 'bob@example.com' is not a domain")]
    [InlineData("local_domains: [\"*.*.example.com\"]\n", "local_domains: '*.*.example.com' is not a domain")]
    [InlineData("limits:\n  - { name: x, scope: account, unit: distinct, max: 10, per: 1h, action: hold }\n", "limits[0] (x).unit: 'distinct' is not one of: messages, recipients, bytes, unique_recipients, external_recipients, failed_recipients")]
    [InlineData("listen: { policy: [\"127.0.0.1:10040\"] }\nlimits:\n  - { name: people, scope: account, unit: unique_recipients, max: 3000, per: 24h, action: suspend }\n",
        "unique_recipients needs each message's recipient addresses, and Postfix sends them to its policy service only at RCPT TO. Add deploy/postfix/main.cf.rcpt")]
    public void Config_BadRecipientUnits_AreClearErrors(string yaml, string error) =>
        Assert.Contains(error, Assert.Throws<ConfigException>(() => Parse(yaml)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("listen: { policy: [\"127.0.0.1:10040\"] }\npolicy: { rcpt_check: true }\n")]
    [InlineData("listen: { policy: [] }\n")]
    public void Config_UniqueRecipients_WithTheRcptCheckOrWithoutThePolicyListener_IsAccepted(string head)
    {
        var rule = Parse(head + "limits:\n  - { name: people, scope: account, unit: unique_recipients, max: 3000, per: 24h, action: suspend }\n")
            .Rules.Rules.Single();
        Assert.Equal((LimitUnit.UniqueRecipients, 3000L), (rule.Unit, rule.TrackedMax));
        Assert.Equal("people (account, 3000 unique recipients per 24h, suspend)", rule.ToString());
    }

    [Fact]
    public async Task ExternalRecipients_CountOnlyOutsideLocalDomains_AndAnAddressNotNamedCountsAsExternal()
    {
        var rules = new RuleSet([new LimitRule("out", Scope.Account, LimitUnit.ExternalRecipients, 10, TimeSpan.FromHours(1), LimitAction.Defer)])
        {
            LocalDomains = new DomainList(["example.com"]),
        };
        var engine = new DecisionEngine(rules, new MemoryCounterStore(rules), new MemoryAccountStore());
        var counts = new long[1];

        // The announcement to all 300 staff counts nothing against the external limit.
        var staff = Enumerable.Range(0, 300).Select(i => $"staff{i}@example.com").ToList();
        Assert.Equal(Verdict.Accept, (await engine.DecideAsync(Send(staff, staff.Count), DecisionStage.Count, counts)).Verdict);
        Assert.Equal(0, counts[0]);

        // Two outside and one inside; then a message of 9 where only 3 addresses are named (Postfix at DATA without RCPT).
        Assert.Equal(Verdict.Accept, (await engine.DecideAsync(Send(["a@far.example", "b@far.example", "c@example.com"], 3), DecisionStage.Count, counts)).Verdict);
        Assert.Equal(2, counts[0]);
        var refused = await engine.DecideAsync(Send(["d@example.com", "e@example.com", "f@example.com"], 12), DecisionStage.Count, counts);
        Assert.Equal((Verdict.Defer, 2L, 9L), (refused.Verdict, refused.Count, refused.Units));
    }

    [Fact]
    public async Task Replay_BouncesInTheLog_CountAgainstTheSendersNextMessage()
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-bounces-").FullName;
        var lines = new List<string>();
        for (var n = 0; n < 12; n++)
        {
            var id = $"B{n:X8}";
            var stamp = T0.AddMinutes(n).ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
            lines.Add($"{stamp} mx postfix/smtpd[1]: {id}: client=c[192.0.2.9], sasl_method=PLAIN, sasl_username=alice@example.com");
            lines.Add($"{stamp} mx postfix/qmgr[2]: {id}: from=<alice@example.com>, size=2000, nrcpt=5 (queue active)");
            for (var r = 0; r < 5; r++)
            {
                lines.Add(r < 2
                    ? $"{stamp} mx postfix/smtp[3]: {id}: to=<gone{n}-{r}@far.example>, relay=x[198.51.100.1]:25, dsn=5.1.1, status=bounced (host x said: 550 5.1.1 no such user)"
                    : $"{stamp} mx postfix/smtp[3]: {id}: to=<r{r}@far.example>, relay=x[198.51.100.1]:25, dsn=2.0.0, status=sent (250 ok)");
            }

            lines.Add($"{stamp} mx postfix/qmgr[2]: {id}: removed");
        }

        var log = Path.Combine(folder, "mail.log");
        File.WriteAllLines(log, lines);
        var config = Path.Combine(folder, "floodgate.yml");
        File.WriteAllText(config, """
            listen: { policy: [], admin: "127.0.0.1:0", relay: [] }
            limits:
              - { name: bounces, scope: account, unit: failed_recipients, max: 10, per: 1h, action: suspend }
            """);

        var replay = await FloodgateCli.RunAsync("replay", "--json", "--config", config, log);
        Assert.Equal(0, replay.Exit);
        var json = replay.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();

        // Five messages went out with two bounces each; the sixth found ten and suspended the account.
        var refused = json.Where(j => j["queue_id"] is not null).ToList();
        Assert.Equal(7, refused.Count);
        Assert.Equal(("B00000005", "bounces"), (refused[0]["queue_id"]!.ToString(), refused[0]["rule"]!.ToString()));
        Assert.Contains("has had 10 recipients fail for good", refused[0]["cause"]!.ToString(), StringComparison.Ordinal);
        var suspended = Assert.Single(json, j => j["event"]?.ToString() == "suspended");
        Assert.Contains("over limit bounces: 10 of 10 failed recipients per 1h reached", suspended["cause"]!.ToString(), StringComparison.Ordinal);
    }

    private static Submission Send(IReadOnlyList<string> to, int count) => new("alice@example.com", "alice@example.com", count, 100, "192.0.2.1", T0) { Recipients = to };
}
