using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Engine;

/// <summary>Limits with unit: bytes (postfwd's size, Exim's per_byte): what a message adds is its size, counted in KiB.</summary>
public class ByteLimitTests
{
    private static FloodgateOptions Parse(string yaml) => ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>());

    [Fact]
    public void Config_BytesLimits_TakeSizes_InTheirMaxAndOverrides()
    {
        var options = Parse("""
            limits:
              - { name: volume, scope: account, unit: bytes, max: 500MB, per: 1h, action: hold }
            overrides:
              "backup@example.com": { volume: 2GiB }
              "big.example.com": { volume: 1048576 }
            """);
        var rule = options.Rules.Rules.Single();
        Assert.Equal(LimitUnit.Bytes, rule.Unit);
        Assert.Equal(500_000_000 / 1024, rule.Max);
        Assert.Equal(2L * 1024 * 1024, rule.MaxFor("backup@example.com"));
        Assert.Equal(1024, rule.MaxFor("someone@big.example.com"));
        Assert.Equal("volume (account, 488281 KiB per 1h, hold)", rule.ToString());
    }

    [Theory]
    [InlineData("limits:\n  - { name: v, scope: account, unit: bytes, max: lots, per: 1h, action: hold }\n", "limits[0] (v).max: 'lots' is not a size")]
    [InlineData("limits:\n  - { name: v, scope: account, unit: bytes, per: 1h, action: hold }\n", "limits[0] (v).max: is missing")]
    [InlineData("limits:\n  - { name: h, scope: account, unit: messages, max: 10, per: 1h, action: hold }\noverrides:\n  \"a@example.com\": { h: 5MB }\n",
        "overrides.a@example.com.h: a size applies only to a limit with unit: bytes; h counts messages")]
    public void Config_BadBytesLimit_IsAClearError(string yaml, string error) =>
        Assert.Contains(error, Assert.Throws<ConfigException>(() => Parse(yaml)).Message, StringComparison.Ordinal);

    [Fact]
    public async Task Policy_AtEndOfMessage_CountsEachMessagesSize()
    {
        // 10KB is 10,000 bytes, counted as 9 KiB; messages of 3,000 bytes are 3 KiB each: three fit, the fourth does not.
        await using var server = await TestServer.StartAsync("""
            limits:
              - { name: volume, scope: account, unit: bytes, max: 10KB, per: 1h, action: defer }
            """);
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);
        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await client.AskAsync(EndOfMessage("bulk@example.com", 3000, $"q{i}")));
        }

        Assert.Equal(["DUNNO", "DUNNO", "DUNNO", "DEFER_IF_PERMIT"], answers.Select(a => a.Split(' ')[0]));
        Assert.Contains(server.DecisionLines, l => l.Contains("counters=volume:9/9", StringComparison.Ordinal));

        // Another account's small message is its own count.
        Assert.Equal("DUNNO", await client.AskAsync(EndOfMessage("alice@example.com", 200, "a1")));
    }

    [Fact]
    public async Task CheckConfig_SaysWhichPostfixStageABytesLimitNeeds()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "limits:\n  - { name: volume, scope: account, unit: bytes, max: 1GB, per: 24h, action: hold }\n");
        var result = await FloodgateCli.RunAsync("check-config", file);
        File.Delete(file);
        Assert.Equal(0, result.Exit);
        Assert.Contains("volume counts bytes: Postfix sends a message's size at END-OF-MESSAGE", result.Output, StringComparison.Ordinal);
        Assert.Contains("deploy/postfix/main.cf.end-of-data", result.Output, StringComparison.Ordinal);
    }

    private static string EndOfMessage(string login, long size, string queueId) =>
        "request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\nprotocol_name=ESMTP\nclient_address=192.0.2.10\n"
        + $"sender={login}\nrecipient_count=1\nqueue_id={queueId}\ninstance={queueId}\nsize={size}\nsasl_method=PLAIN\nsasl_username={login}\n\n";
}
