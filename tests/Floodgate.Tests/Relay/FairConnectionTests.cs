using System.Net;
using Floodgate.Relay;
using Floodgate.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Floodgate.Tests.Relay;

/// <summary>
/// Clients outside relay.networks (here 127.0.0.2 and up, standing for the Internet) cannot crowd out the mail
/// servers the relay is for: they have a budget of their own and a deadline to log in.
/// </summary>
public sealed class FairConnectionTests
{
    private const string Password = "correct horse battery staple";
    private static readonly Lazy<string> PasswordHash = new(() => RelayPassword.Hash(Password));

    private static Task<TestServer> StartAsync(string relay) => TestServer.StartAsync(
        "limits:\n  - { name: hourly, scope: account, unit: messages, max: 1000, per: 1h, action: suspend }\n"
        + $"relay:\n  hostname: relay.test\n  networks: [127.0.0.1/32]\n  next_hop: {{ host: 127.0.0.1, port: {FreePort.Next()}, tls: none, retry_delay: 1h }}\n"
        + $"  users:\n    - {{ name: kerio, password_hash: \"{PasswordHash.Value}\" }}\n" + relay,
        relay: ["127.0.0.1:0"]);

    private static IPAddress Stranger(int n) => IPAddress.Parse($"127.0.0.{n + 1}");

    [Fact]
    public async Task Relay_UntrustedClientsFillTheirBudget_TrustedAndLoggedInClientsStillGetIn()
    {
        await using var server = await StartAsync("  max_connections: 10\n  max_untrusted_connections: 3\n");
        var strangers = new List<SmtpDialog>();
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                var (dialog, greeting) = await SmtpDialog.ConnectAsync(server.Relay, Stranger(i));
                strangers.Add(dialog);
                Assert.StartsWith("220", greeting);
            }

            var (refused, answer) = await SmtpDialog.ConnectAsync(server.Relay, Stranger(4));
            strangers.Add(refused);
            Assert.StartsWith("421 4.7.0", answer);
            Assert.Contains("untrusted", answer, StringComparison.Ordinal);

            // The relay's own networks are not counted in that budget.
            for (var i = 0; i < 5; i++)
            {
                var (trusted, greeting) = await SmtpDialog.ConnectAsync(server.Relay);
                strangers.Add(trusted);
                Assert.StartsWith("220", greeting);
            }

            // A mail server outside the networks that logs in leaves the budget at once: the next stranger gets in.
            await strangers[0].AskAsync("QUIT");
            await Floodgate.Tests.Alerts.Eventually.TrueAsync(() => server.Service<Floodgate.Hosting.RelayListeners>().Handlers[0].Handler.Connections <= 7,
                "the stranger's connection to be closed");
            using var client = new SmtpClient { ServerCertificateValidationCallback = (_, c, _, _) => c?.Subject == "CN=relay.test", LocalEndPoint = new IPEndPoint(Stranger(5), 0) };
            await client.ConnectAsync("127.0.0.1", server.Relay.Port, SecureSocketOptions.StartTls);
            await client.AuthenticateAsync("kerio", Password);
            var (next, nextGreeting) = await SmtpDialog.ConnectAsync(server.Relay, Stranger(6));
            strangers.Add(next);
            Assert.StartsWith("220", nextGreeting);
            await client.NoOpAsync();
        }
        finally
        {
            foreach (var dialog in strangers)
            {
                await dialog.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Relay_UntrustedClientThatDoesNotLogIn_IsClosedAtTheDeadline_NoopDoesNotExtendIt()
    {
        await using var server = await StartAsync("  login_timeout: 2s\n");

        // The deadline runs from the connect, which the server sees after this moment.
        var started = DateTime.UtcNow;
        var (stranger, _) = await SmtpDialog.ConnectAsync(server.Relay, Stranger(1));
        var (trusted, _) = await SmtpDialog.ConnectAsync(server.Relay);
        await using var __ = stranger;
        await using var ___ = trusted;
        string answer;
        do
        {
            await Task.Delay(300);
            try
            {
                await stranger.SendAsync("NOOP\r\n");
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Closed between two NOOPs: its 421 is still there to read.
            }

            answer = await stranger.ReplyAsync();
        }
        while (answer.StartsWith("250", StringComparison.Ordinal) && DateTime.UtcNow - started < TimeSpan.FromSeconds(10));

        Assert.StartsWith("421 4.7.0", answer);
        Assert.Contains("log in", answer, StringComparison.Ordinal);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(8));
        Assert.StartsWith("250", await trusted.AskAsync("NOOP"));
    }
}
