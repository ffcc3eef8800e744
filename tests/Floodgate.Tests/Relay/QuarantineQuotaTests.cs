using Floodgate.Quarantine;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Relay;

/// <summary>
/// The relay's quarantine has a quota: a suspended account's mail is held (250) until its share is used up, then the
/// relay answers 451 (the sending server keeps the message and retries: nothing is lost) and the admin is alerted once.
/// </summary>
public sealed class QuarantineQuotaTests
{
    [Fact]
    public async Task SuspendedAccount_PastItsQuarantineQuota_Gets451_AndTheAdminOneAlert()
    {
        var hookAnswers = 0;
        await using var hook = await HookReceiver.StartAsync((_, _) =>
        {
            Interlocked.Increment(ref hookAnswers);
            return Task.FromResult(200);
        });
        await using var server = await TestServer.StartAsync($$"""
            limits:
              - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: suspend }
            alerts:
              webhook: { url: "{{hook.Url("/hook")}}" }
            relay:
              hostname: relay.test
              networks: [127.0.0.1/32]
              next_hop: { host: 127.0.0.1, port: {{FreePort.Next()}}, tls: none, retry_delay: 1h }
              quarantine_max_bytes_per_account: 20KiB
            """, relay: ["127.0.0.1:0"]);

        var body = new string('x', 70) + "\r\n";
        var message = "Subject: spam\r\n\r\n" + string.Concat(Enumerable.Repeat(body, 60));
        var answers = new List<string>();
        var (smtp, greeting) = await SmtpDialog.ConnectAsync(server.Relay);
        await using (smtp)
        {
            Assert.StartsWith("220", greeting);
            await smtp.AskAsync("EHLO upstream.test");
            for (var i = 0; i < 12; i++)
            {
                Assert.StartsWith("250", await smtp.AskAsync("MAIL FROM:<mallory@example.com>"));
                Assert.StartsWith("250", await smtp.AskAsync("RCPT TO:<victim@remote.example>"));
                Assert.StartsWith("354", await smtp.AskAsync("DATA"));
                answers.Add(await smtp.AskAsync(message + "."));
            }
        }

        // Two within the limit go out, the suspension holds the next ones until 20 KiB (about 4.5 KB each) are held.
        var quarantine = server.Service<RelayQuarantine>();
        Assert.All(answers.Take(2 + 4), a => Assert.StartsWith("250", a));
        Assert.All(answers.Skip(2 + 4), a => Assert.StartsWith("451 4.3.1", a));
        Assert.Equal(4, quarantine.Count);
        Assert.True(quarantine.BytesFor("account:mallory@example.com") <= 20 * 1024, $"{quarantine.BytesFor("account:mallory@example.com")} bytes held");

        await Eventually.TrueAsync(() => hook.Subjects().Contains("[Floodgate] relay quarantine quota reached"), "the quota alert");
        await Task.Delay(1000);
        Assert.Single(hook.Subjects(), s => s == "[Floodgate] relay quarantine quota reached");
        Assert.Contains(server.Logs.Lines, l => l.Contains("quota reached", StringComparison.Ordinal));
    }

}
