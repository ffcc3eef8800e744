using Floodgate.Relay;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Relay;

/// <summary>
/// SMTP smuggling: a line ending other than CRLF (or a NUL) that this relay and the next hop could read differently
/// must never reach the next hop, where a second, forged message could start.
/// </summary>
public sealed class SmugglingTests
{
    private static Task<TestServer> StartAsync() => TestServer.StartAsync(
        "limits:\n  - { name: hourly, scope: account, unit: messages, max: 1000, per: 1h, action: suspend }\n"
        + $"relay:\n  hostname: relay.test\n  next_hop: {{ host: 127.0.0.1, port: {FreePort.Next()}, tls: none, retry_delay: 1h }}\n",
        relay: ["127.0.0.1:0"]);

    private const string Smuggled = "MAIL FROM:<ceo@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: forged\r\n\r\npay now\r\n";

    public static TheoryData<string> Primitives => ["\r.\r", "\r.\r\n", "\r\n\0.\r\n", "\n.\n", "\n.\r\n", "\r\n.\n", "\r\n.\r"];

    [Theory]
    [MemberData(nameof(Primitives))]
    public async Task Relay_DataWithASmugglingPrimitive_IsRefusedAndNothingIsKept(string primitive)
    {
        await using var server = await StartAsync();
        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var __ = smtp;
        await smtp.AskAsync("EHLO client.example.net");
        await smtp.AskAsync("MAIL FROM:<alice@example.com>");
        await smtp.AskAsync("RCPT TO:<bob@example.net>");
        Assert.StartsWith("354", await smtp.AskAsync("DATA"));

        await smtp.SendAsync("Subject: hello\r\n\r\nhello" + primitive + Smuggled);
        var answer = await smtp.AskAsync(".");

        Assert.StartsWith("550 5.6.0", answer);
        Assert.Empty(server.Service<MessageSpool>().Read());
        Assert.StartsWith("250 2.0.0", await smtp.AskAsync("NOOP"));
    }

    [Theory]
    [InlineData("NOOP\n")]
    [InlineData("NOOP\rRSET\r\n")]
    public async Task Relay_CommandLineWithABareLineBreak_IsRefused(string line)
    {
        await using var server = await StartAsync();
        var (smtp, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var __ = smtp;
        await smtp.SendAsync(line);
        Assert.StartsWith("500 5.5.2", await smtp.ReplyAsync());
        Assert.StartsWith("250", await smtp.AskAsync("EHLO client.example.net"));
    }
}
