using Floodgate.Quarantine;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Floodgate.Tests.Observe;

/// <summary>The relay in observe mode: what enforce would hold is accepted and delivered to the next hop.</summary>
public sealed class ObserveRelayTests
{
    [Theory]
    [InlineData("enforce", 2, 3)]
    [InlineData("observe", 5, 0)]
    public async Task Relay_HoldLimit_EnforceHolds_ObserveDelivers(string mode, int delivered, int held)
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await TestServer.StartAsync($$"""
            mode: {{mode}}
            limits:
              - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: hold }
            relay:
              hostname: relay.test
              networks: [127.0.0.1/32]
              next_hop: { host: 127.0.0.1, port: {{sink.Port}}, tls: none, retry_delay: 1s }
            """, relay: ["127.0.0.1:0"]);

        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", server.Relay.Port, SecureSocketOptions.None);
            for (var i = 0; i < 5; i++)
            {
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse("alice@example.com"));
                message.To.Add(MailboxAddress.Parse("bob@example.net"));
                message.Subject = $"message {i}";
                message.Body = new TextPart("plain") { Text = "hello" };

                // 250 either way: the relay holds in its own quarantine.
                await client.SendAsync(message);
            }

            await client.DisconnectAsync(true);
        }

        await Eventually.TrueAsync(() => sink.MessageCount == delivered, $"{delivered} messages at the next hop (now {sink.MessageCount})");
        Assert.Equal(held, server.Service<RelayQuarantine>().Count);
        var lines = server.DecisionLines.ToList();
        Assert.Equal(5, lines.Count);
        if (mode == "observe")
        {
            Assert.Equal(3, lines.Count(l => l.Contains(" verdict=accept ", StringComparison.Ordinal) && l.Contains(" mode=observe would_have=hold ", StringComparison.Ordinal)));
        }
    }
}
