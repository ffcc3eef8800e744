using Floodgate.Configuration;
using Floodgate.Tests.Relay;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Engine;

/// <summary>max_recipients_per_message (Google's 2,000, Exchange's 500): one message to 500 addresses is refused, counted nowhere.</summary>
public class RecipientCapTests
{
    private const string Yaml = """
        max_recipients_per_message: 5
        limits:
          - { name: hourly, scope: account, unit: recipients, max: 1000, per: 1h, action: suspend }
        overrides:
          "newsletter@example.com": { max_recipients_per_message: 100 }
        """;

    [Fact]
    public async Task Policy_AMessageOverTheCap_IsRejectedWithAClearText_AndNotCounted_AnOverrideRaisesIt()
    {
        await using var server = await TestServer.StartAsync(Yaml);
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);

        var refused = await client.AskAsync(PolicyClient.Request("DATA", "alice@example.com", "alice@example.com", 6, "m1"));
        Assert.Equal("550 5.5.3 Too many recipients in one message for alice@example.com; send it to fewer recipients at a time", refused);
        Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "alice@example.com", "alice@example.com", 5, "m2")));
        Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "newsletter@example.com", "newsletter@example.com", 80, "n1")));

        // The refused message counted nowhere: 5 recipients, not 11.
        Assert.Contains(server.DecisionLines, l => l.Contains("account=alice@example.com", StringComparison.Ordinal)
            && l.Contains("verdict=reject", StringComparison.Ordinal)
            && l.Contains("sent one message to 6 recipients, more than the 5 allowed in one message (max_recipients_per_message)", StringComparison.Ordinal));
        Assert.Contains(server.DecisionLines, l => l.Contains("account=alice@example.com", StringComparison.Ordinal) && l.Contains("counters=hourly:5/1000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Relay_AMessageOverTheCap_Gets550AtTheEndOfData()
    {
        await using var server = await TestServer.StartAsync(Yaml + "\n" + $$"""
            relay:
              hostname: relay.test
              networks: [127.0.0.1/32]
              next_hop: { host: 127.0.0.1, port: {{FreePort.Next()}}, tls: none, retry_delay: 1h }
            """, relay: ["127.0.0.1:0"]);
        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using (smtp)
        {
            await smtp.AskAsync("EHLO upstream.test");
            Assert.StartsWith("250", await smtp.AskAsync("MAIL FROM:<alice@example.com>"));
            for (var i = 0; i < 6; i++)
            {
                Assert.StartsWith("250", await smtp.AskAsync($"RCPT TO:<r{i}@remote.example>"));
            }

            Assert.StartsWith("354", await smtp.AskAsync("DATA"));
            Assert.StartsWith("550 5.5.3 Too many recipients in one message for alice@example.com", await smtp.AskAsync("Subject: all of them\r\n\r\nhi\r\n."));
        }
    }

    [Theory]
    [InlineData("max_recipients_per_message: 0\n", "max_recipients_per_message: '0' is not a whole number from 1")]
    [InlineData("overrides:\n  \"a@example.com\": { max_recipients_per_message: 10 }\n", "there is no max_recipients_per_message to override")]
    public void Config_BadCap_IsAClearError(string yaml, string error) =>
        Assert.Contains(error, Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>())).Message,
            StringComparison.Ordinal);
}
