using Floodgate.Engine;
using Floodgate.Storage;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Postfix;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Relay;

/// <summary>
/// failed_recipients through the relay: a real Postfix as the next hop refuses two of every five recipients with
/// 550 5.1.1 (a harvested list); each refusal counts against the sender as it comes back, and the message after the
/// tenth suspends the account, its mail held.
/// </summary>
[Collection(PostfixGroup.Name)]
public sealed class FailedRecipientsTests
{
    private const string Access = """
        smtpd_recipient_restrictions = check_recipient_access inline:{ { gone1@floodgate.test = 550 5.1.1 no such user here }, { gone2@floodgate.test = 550 5.1.1 no such user here } }, permit_mynetworks, reject
        """;

    [Fact]
    public async Task Relay_NextHopRefusesFortyPercent_TheTenthFailureSuspendsTheSenderAtItsNextMessage()
    {
        await using var postfix = await PostfixInstance.StartAsync(Access, new Dictionary<string, string>());
        await using var server = await TestServer.StartAsync($$"""
            limits:
              - { name: bounces, scope: account, unit: failed_recipients, max: 10, per: 1h, action: suspend }
            relay:
              hostname: relay.test
              networks: [127.0.0.1/32]
              next_hop: { host: 127.0.0.1, port: {{postfix.SmtpPort}}, tls: none, retry_delay: 1h }
            """, relay: ["127.0.0.1:0"]);
        var counters = server.Service<MemoryCounterStore>();
        var rule = server.Options.Rules.Rules.Single();
        long Failed() => counters.CountsOf(Scope.Account, "mallory@example.com", DateTimeOffset.UtcNow)[rule.Index];

        var (smtp, greeting) = await SmtpDialog.ConnectAsync(server.Relay);
        await using (smtp)
        {
            Assert.StartsWith("220", greeting);
            await smtp.AskAsync("EHLO upstream.test");
            for (var i = 0; i < 6; i++)
            {
                Assert.StartsWith("250", await smtp.AskAsync("MAIL FROM:<mallory@example.com>"));
                foreach (var to in new[] { $"a{i}@floodgate.test", "gone1@floodgate.test", $"b{i}@floodgate.test", "gone2@floodgate.test", $"c{i}@floodgate.test" })
                {
                    Assert.StartsWith("250", await smtp.AskAsync($"RCPT TO:<{to}>"));
                }

                Assert.StartsWith("354", await smtp.AskAsync("DATA"));
                Assert.StartsWith("250", await smtp.AskAsync($"Subject: list {i}\r\n\r\nbuy now\r\n."));
                if (i < 5)
                {
                    // The next hop's refusals come back with the delivery and count before the next message is decided.
                    var expected = 2 * (i + 1);
                    await Eventually.TrueAsync(() => Failed() == expected, $"{expected} failed recipients counted");
                }
            }
        }

        // Five messages went out (the refused recipients each counted), the sixth found ten failures and was held.
        await Eventually.TrueAsync(() => postfix.Delivered().Count(m => m.Contains("Subject: list", StringComparison.Ordinal)) == 5, "five lists at the sink");
        await postfix.SettleAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(postfix.Delivered(), m => m.Contains("Subject: list 5", StringComparison.Ordinal));
        Assert.Equal(10, Failed());
        Assert.Contains("has had 10 recipients fail for good, the most allowed per 1h being 10 (rule bounces)", server.DecisionLogText(), StringComparison.Ordinal);
        Assert.Contains(server.Logs.Lines, l => l.Contains("SUSPENDED account:mallory@example.com by rule bounces", StringComparison.Ordinal));
        Assert.Equal(1, server.Service<Floodgate.Quarantine.RelayQuarantine>().Count);
    }
}
