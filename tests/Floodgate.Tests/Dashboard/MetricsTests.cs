using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;
using static Floodgate.Tests.Dashboard.PrometheusText;

namespace Floodgate.Tests.Dashboard;

// Serial: the exporter reads every meter named "Floodgate" in the process, so another test's server would add to the counts.
[Collection(SerialGroup.Name)]
public class MetricsTests
{
    private const string Limits = """
        limits:
          - { name: hourly, scope: account, unit: messages, max: 10, per: 1h, action: suspend }
        """;

    [Fact]
    public async Task Metrics_WithoutTheToken_Is401()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var http = new HttpClient();
        using var response = await http.GetAsync(server.AdminUrl + "metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("floodgate_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_Scraped_MoveAsTrafficFlows()
    {
        await using var server = await TestServer.StartAsync(Limits);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        async Task<Dictionary<string, double>> ScrapeAsync()
        {
            using var response = await http.GetAsync(server.AdminUrl + "metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
            return Parse(await response.Content.ReadAsStringAsync());
        }

        var before = await ScrapeAsync();
        Assert.Equal(0, Sum(before, "floodgate_accounts_suspended"));
        Assert.Equal(0, Sum(before, "floodgate_incidents_open"));
        Assert.True(before.ContainsKey("floodgate_suspensions_total{otel_scope_name=\"Floodgate\",rule=\"hourly\"}"), "the suspension counter is there at 0 before any suspension: " + string.Join(" ", before.Keys));

        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        for (var i = 0; i < 15; i++)
        {
            await policy.AskAsync(PolicyClient.Request("DATA", "mallory@example.com", "mallory@example.com", 2, $"m{i}", "203.0.113.66"));
        }

        for (var i = 0; i < 3; i++)
        {
            await policy.AskAsync(PolicyClient.Request("RCPT", "alice@example.com", "alice@example.com", 1, $"a{i}"));
        }

        var after = await ScrapeAsync();
        string[] accepted = ["verdict=\"accept\"", "listener=\"policy\""];
        Assert.Equal(10 + 3, Sum(after, "floodgate_decisions_total", accepted) - Sum(before, "floodgate_decisions_total", accepted));
        Assert.Equal(5, Sum(after, "floodgate_decisions_total", "verdict=\"hold\"", "rule=\"hourly\"") - Sum(before, "floodgate_decisions_total", "verdict=\"hold\"", "rule=\"hourly\""));
        Assert.Equal(18, Sum(after, "floodgate_decision_duration_seconds_count") - Sum(before, "floodgate_decision_duration_seconds_count"));
        Assert.True(Sum(after, "floodgate_decision_duration_seconds_sum") > Sum(before, "floodgate_decision_duration_seconds_sum"));
        Assert.Equal(18, Sum(after, "floodgate_decision_duration_seconds_bucket", "le=\"+Inf\"") - Sum(before, "floodgate_decision_duration_seconds_bucket", "le=\"+Inf\""));
        Assert.Equal(1, Sum(after, "floodgate_accounts_suspended"));
        Assert.Equal(1, Sum(after, "floodgate_suspensions_total", "rule=\"hourly\"") - Sum(before, "floodgate_suspensions_total"));
        Assert.Equal(1, Sum(after, "floodgate_incidents_open"));
        Assert.Equal(1, Sum(after, "floodgate_listener_connections", $"listener=\"policy {server.Tcp}\""));

        using var release = await http.PostAsync(server.AdminUrl + "api/accounts/mallory@example.com/release", JsonContent.Create(new { mode = "keep" }));
        release.EnsureSuccessStatusCode();
        await policy.DisposeAsync();
        var released = await ScrapeAsync();
        for (var wait = 0; wait < 100 && Sum(released, "floodgate_listener_connections") > 0; wait++)
        {
            // The server sees the disconnect a moment after the client closes.
            await Task.Delay(50);
            released = await ScrapeAsync();
        }

        Assert.Equal(0, Sum(released, "floodgate_accounts_suspended"));
        Assert.Equal(0, Sum(released, "floodgate_incidents_open"));
        Assert.Equal(0, Sum(released, "floodgate_listener_connections"));
    }

    [Fact]
    public async Task Metrics_AlertDeliveriesAndFailures_AreCounted()
    {
        // The chat server fails the first attempt and takes the retry.
        await using var hook = await HookReceiver.StartAsync((n, _) => Task.FromResult(n == 1 ? 500 : 200));
        await using var server = await TestServer.StartAsync(Limits
            + $"\nalerts:\n  webhook: {{ url: \"{hook.Url("/hook")}\" }}\n  retry: {{ attempts: 3, first_delay: 10ms }}\n");
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        await using var policy = await PolicyClient.ConnectAsync(server.Tcp);
        for (var i = 0; i < 11; i++)
        {
            await policy.AskAsync(PolicyClient.Request("DATA", "mallory@example.com", "mallory@example.com", 1, $"m{i}", "203.0.113.66"));
        }

        Dictionary<string, double> metrics = [];
        for (var wait = 0; wait < 200 && Sum(metrics, "floodgate_alerts_delivered_total") == 0; wait++)
        {
            await Task.Delay(50);
            metrics = Parse(await http.GetStringAsync(server.AdminUrl + "metrics"));
        }

        Assert.Equal(1, Sum(metrics, "floodgate_alerts_delivered_total", "channel=\"webhook http://127.0.0.1:", "event=\"suspended\""));
        Assert.Equal(1, Sum(metrics, "floodgate_alerts_failed_total", "channel=\"webhook http://127.0.0.1:", "final=\"false\""));
        Assert.Equal(0, Sum(metrics, "floodgate_alerts_failed_total", "final=\"true\""));
        Assert.Equal(2, hook.Requests);
    }
}
