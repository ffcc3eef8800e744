using System.Net;
using System.Net.Http.Headers;
using Floodgate.Tests.Support;
using static Floodgate.Tests.Dashboard.PrometheusText;

namespace Floodgate.Tests.Observe;

// Serial: the exporter reads every meter named "Floodgate" in the process, so another test's server would add to the counts.
[Collection(SerialGroup.Name)]
public sealed class ObserveMetricsTests
{
    [Fact]
    public async Task Metrics_InObserve_CountTheAnswerAsAccept_AndTheWouldHaveVerdictApart()
    {
        await using var server = await TestServer.StartAsync("""
            mode: observe
            limits:
              - { name: hourly, scope: account, unit: messages, max: 2, per: 1h, action: defer }
              - { name: daily, scope: account, unit: messages, max: 100, per: 24h, action: hold }
            """);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        async Task<Dictionary<string, double>> ScrapeAsync()
        {
            using var response = await http.GetAsync(server.AdminUrl + "metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return Parse(await response.Content.ReadAsStringAsync());
        }

        var before = await ScrapeAsync();
        await using (var policy = await PolicyClient.ConnectAsync(server.Tcp))
        {
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "erin@example.com", "erin@example.com", 1, $"e{i}")));
            }
        }

        var after = await ScrapeAsync();
        double Delta(string name, params string[] labels) => Sum(after, name, labels) - Sum(before, name, labels);
        Assert.Equal(5, Delta("floodgate_decisions_total", "listener=\"policy\"", "verdict=\"accept\""));
        Assert.Equal(0, Delta("floodgate_decisions_total", "verdict=\"defer\""));
        Assert.Equal(3, Delta("floodgate_decisions_observed_total", "listener=\"policy\"", "verdict=\"defer\"", "rule=\"hourly\""));
        Assert.Equal(2, Sum(after, "floodgate_limits_observed"));
    }
}
