using Floodgate.Engine;
using Floodgate.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Floodgate.Tests.Pipeline;

/// <summary>Every enforcement point answers a failing store the same way: the pipeline owns the fail modes.</summary>
public class FailModeTests
{
    [Theory]
    [InlineData("open", "unavailable", "DEFER_IF_PERMIT 4.3.0", 451)]
    [InlineData("closed", "unavailable", "DEFER_IF_PERMIT 4.3.0", 451)]
    [InlineData("open", "broken", "DUNNO", 250)]
    [InlineData("closed", "broken", "DEFER_IF_PERMIT 4.3.0", 451)]
    public async Task PolicyAndRelay_GiveTheSameVerdict_WhenTheStoreFails(string failMode, string failure, string policyAnswer, int relayCode)
    {
        // "unavailable" is what the Redis store throws when Redis is away with redis.fail_mode: closed.
        var store = new FailingCounterStore(failure == "unavailable");
        var yaml = $"fail_mode: {failMode}\nrelay:\n  hostname: relay.test\n  next_hop: {{ host: 127.0.0.1, port: {FreePort.Next()}, tls: none, retry_delay: 1h }}\n"
            + "limits:\n  - { name: hourly, scope: account, unit: messages, max: 5, per: 1h, action: suspend }\n";
        await using var server = await TestServer.StartAsync(yaml, counters: store, relay: ["127.0.0.1:0"]);

        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        Assert.StartsWith(policyAnswer, await policy.AskAsync(PolicyClient.Request("DATA", "alice@example.com", "alice@example.com", 1, "i1")), StringComparison.Ordinal);

        using var smtp = new SmtpClient();
        await smtp.ConnectAsync(server.Relay.Address.ToString(), server.Relay.Port, SecureSocketOptions.None);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("alice@example.com"));
        message.To.Add(MailboxAddress.Parse("bob@example.net"));
        message.Subject = "hello";
        message.Body = new TextPart("plain") { Text = "hi" };
        var code = 250;
        try
        {
            await smtp.SendAsync(message);
        }
        catch (SmtpCommandException e)
        {
            code = (int)e.StatusCode;
            Assert.Contains("4.3.0", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(relayCode, code);
        Assert.True(store.Calls >= 2, $"the store was asked {store.Calls} times");
    }

    private sealed class FailingCounterStore(bool unavailable) : ICounterStore
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask<bool> ChargeAsync(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit)
        {
            Interlocked.Increment(ref _calls);
            throw unavailable ? new StoreUnavailableException() : new InvalidOperationException("the store is broken");
        }
    }
}
