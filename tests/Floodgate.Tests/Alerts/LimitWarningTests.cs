using System.Text.Json;
using Floodgate.Configuration;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Alerts;

/// <summary>
/// warn_at (Exchange's "sending limit exceeded" notice, postfwd's WARN): the admin hears of an account nearing a limit
/// before anything is blocked, once per window; alert: true on a defer limit alerts the first time it acts.
/// </summary>
public class LimitWarningTests
{
    [Fact]
    public async Task WarnAt_AlertsOncePerWindowBeforeTheLimit_AndAlertTrue_OnceWhenItFirstActs()
    {
        await using var hook = await HookReceiver.StartAsync((_, _) => Task.FromResult(200));
        await using var server = await TestServer.StartAsync($$"""
            limits:
              - { name: hourly, scope: account, unit: recipients, max: 10, per: 1h, action: defer, warn_at: 80%, alert: true }
            alerts:
              webhook: { url: "{{hook.Url("/hook")}}" }
            """);
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);

        // 7 of 10: nothing yet.
        Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "sales@example.com", "sales@example.com", 7, "m1")));
        await Task.Delay(500);
        Assert.Empty(hook.Subjects());

        // 8 and 9 of 10: one warning, while the mail still flows.
        Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "sales@example.com", "sales@example.com", 1, "m2")));
        Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", "sales@example.com", "sales@example.com", 1, "m3")));
        await Eventually.TrueAsync(() => hook.Subjects().Count == 1, "the warning");

        // Over the limit twice: deferred both times, one alert that the limit acts.
        Assert.StartsWith("DEFER_IF_PERMIT", await client.AskAsync(PolicyClient.Request("DATA", "sales@example.com", "sales@example.com", 5, "m4")), StringComparison.Ordinal);
        Assert.StartsWith("DEFER_IF_PERMIT", await client.AskAsync(PolicyClient.Request("DATA", "sales@example.com", "sales@example.com", 5, "m5")), StringComparison.Ordinal);
        await Eventually.TrueAsync(() => hook.Subjects().Count == 2, "the alert that the limit acts");
        await Task.Delay(1000);

        var alerts = hook.Received.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(2, alerts.Count);
        Assert.Equal("[Floodgate] warning: account:sales@example.com at 80% of limit hourly", alerts[0].GetProperty("subject").GetString());
        Assert.Contains("8 of 10 recipients per 1h", alerts[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains("nothing is blocked yet", alerts[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("[Floodgate] account:sales@example.com reached limit hourly: its mail is now deferred", alerts[1].GetProperty("subject").GetString());
        Assert.All(alerts, a => Assert.Equal("warning", a.GetProperty("event").GetString()));
        Assert.Empty(await server.Accounts.ListSuspensionsAsync());
    }

    [Theory]
    [InlineData("warn_at: lots", "limits[0] (h).warn_at: 'lots' is not a share of the limit")]
    [InlineData("warn_at: 120%", "is not a share of the limit between 0 and 100%")]
    [InlineData("alert: maybe", "limits[0] (h).alert: 'maybe' is not one of: true, false")]
    public void Config_BadWarning_IsAClearError(string extra, string error) =>
        Assert.Contains(error, Assert.Throws<ConfigException>(() => ConfigLoader.Parse(
            $"limits:\n  - {{ name: h, scope: account, unit: messages, max: 10, per: 1h, action: defer, {extra} }}\n", "floodgate.yml",
            new Dictionary<string, string>())).Message, StringComparison.Ordinal);

    [Fact]
    public void Config_AlertTrueOnASuspendLimit_IsRefused_ItAlwaysAlerts() =>
        Assert.Contains("a suspend limit always alerts", Assert.Throws<ConfigException>(() => ConfigLoader.Parse(
            "limits:\n  - { name: h, scope: account, unit: messages, max: 10, per: 1h, action: suspend, alert: true }\n", "floodgate.yml",
            new Dictionary<string, string>())).Message, StringComparison.Ordinal);
}
