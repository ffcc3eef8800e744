using Floodgate.Quarantine;
using Floodgate.Relay;
using Floodgate.Tests.Relay;
using Floodgate.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using Xunit.Abstractions;

namespace Floodgate.Tests.Dashboard;

/// <summary>The quarantine pages in Debian's headless Chromium: a relayed flood is held, shown, released one by one and purged in bulk.</summary>
[Collection(SerialGroup.Name)]
public class QuarantineBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Dashboard_Quarantine_ShowsHeldRelayMail_ReleasesOne_PurgesTheRest()
    {
        // The next hop is a port nobody listens on: accepted (2) and released mail waits in the outbound queue, where the test sees it.
        await using var server = await TestServer.StartAsync($$"""
            limits:
              - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: suspend }
            relay:
              hostname: relay.test
              next_hop: { host: 127.0.0.1, port: {{FreePort.Next()}}, tls: none, retry_delay: 1h }
            """, relay: ["127.0.0.1:0"]);
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", server.Relay.Port, SecureSocketOptions.None);
            for (var i = 0; i < 6; i++)
            {
                await client.SendAsync(RelayProtocolTests.Message("mallory@example.com", $"victim{i}@example.net", $"Invoice {i} overdue"));
            }
        }

        var quarantine = server.Service<RelayQuarantine>();
        var outbound = server.Service<IOutboundDelivery>();
        Assert.Equal(4, quarantine.Count);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminToken);
        var metrics = PrometheusText.Parse(await http.GetStringAsync(server.AdminUrl + "metrics"));
        Assert.Equal(4, PrometheusText.Sum(metrics, "floodgate_quarantine_messages"));
        Assert.Equal(quarantine.Bytes, PrometheusText.Sum(metrics, "floodgate_quarantine_size_bytes"));
        Assert.Equal(2, PrometheusText.Sum(metrics, "floodgate_outbound_queue"));
        Assert.Equal(6, PrometheusText.Sum(metrics, "floodgate_decisions_total", "listener=\"relay\""));

        using var browser = Chromium.Start();
        var driver = browser.Driver;
        driver.Navigate().GoToUrl(server.AdminUrl);
        browser.Find("#password").SendKeys(server.AdminPassword);
        browser.Find("#login").Click();
        browser.WaitFor(() => browser.FindAll("#tile-quarantine").Count == 1, TimeSpan.FromSeconds(10), "the overview after logging in");
        Assert.Equal("4", browser.Text("#tile-quarantine .number"));
        Assert.Contains("relay", browser.Text("#listeners"), StringComparison.Ordinal);

        browser.Find("header nav a[href='/quarantine']").Click();
        browser.WaitFor(() => browser.FindAll("#held-messages tr[data-id]").Count == 4, TimeSpan.FromSeconds(10), "four held messages listed");
        Assert.Contains("mallory@example.com", browser.Text("#held-accounts"), StringComparison.Ordinal);
        Assert.Contains("Invoice 2 overdue", browser.Text("#held-messages"), StringComparison.Ordinal);
        output.WriteLine("screenshot: " + browser.Screenshot("quarantine"));

        var first = quarantine.List()[0];
        browser.Find($"#held-messages tr[data-id='{first.Id}'] td a").Click();
        browser.WaitFor(() => browser.FindAll("#headers").Count == 1, TimeSpan.FromSeconds(10), "the held message's page");
        Assert.Contains("Subject: Invoice 2 overdue", browser.Text("#headers"), StringComparison.Ordinal);
        Assert.Contains("by relay.test (Floodgate)", browser.Text("#headers"), StringComparison.Ordinal);
        Assert.Contains("Invoice 2 overdue", browser.Text("#body"), StringComparison.Ordinal);
        Assert.Contains("account:mallory@example.com", browser.Text("#envelope"), StringComparison.Ordinal);
        output.WriteLine("screenshot: " + browser.Screenshot("quarantine-message"));

        browser.FindAll("#message-actions button").First(b => b.Text == "Release").Click();
        browser.WaitFor(() => browser.Text("#flash").Contains("released", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the release is confirmed");
        Assert.Equal(3, quarantine.Count);
        Assert.Null(quarantine.Find(first.Id));
        Assert.Equal(3, outbound.Depth);

        // Bulk purge asks for confirmation first: accept the dialog the page raises.
        browser.FindAll("#held-accounts button").First(b => b.Text == "Purge all").Click();
        driver.SwitchTo().Alert().Accept();
        browser.WaitFor(() => browser.Text("#flash").Contains("3 held messages purged", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the bulk purge is confirmed");
        Assert.Equal(0, quarantine.Count);
        Assert.Contains("Nothing is held", browser.Text("#held-accounts"), StringComparison.Ordinal);
        Assert.Equal(3, server.Service<MessageSpool>().Read().Count(m => m.State == SpoolState.Queued));
        Assert.Equal(3, server.Service<MessageSpool>().Read().Count);
    }
}
