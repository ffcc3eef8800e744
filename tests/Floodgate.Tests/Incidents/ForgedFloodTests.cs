using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;
using Xunit.Abstractions;

namespace Floodgate.Tests.Incidents;

/// <summary>
/// The review's forged-identity flood: 300 envelope senders from an untrusted client, no login, each over a suspend
/// limit within a second. Every one is suspended (its mail held), but the admin gets one incident and one alert, and
/// one release frees them all.
/// </summary>
public class ForgedFloodTests(ITestOutputHelper output)
{
    private const int Forged = 300;

    [Fact]
    public async Task ThreeHundredForgedSenders_OverASuspendLimit_AreOneIncidentAndOneAlert_AndOneReleaseFreesThemAll()
    {
        var webhooks = 0;
        await using var hook = await HookReceiver.StartAsync((_, _) =>
        {
            Interlocked.Increment(ref webhooks);
            return Task.FromResult(200);
        });
        await using var server = await TestServer.StartAsync($$"""
            limits:
              - { name: senders, scope: sender, unit: recipients, max: 10, per: 1h, action: suspend }
            alerts:
              webhook: { url: "{{hook.Url("/hook")}}" }
            """);

        await Parallel.ForEachAsync(Enumerable.Range(0, 10), async (c, _) =>
        {
            await using var client = await PolicyClient.ConnectAsync(server.Tcp);
            for (var i = c; i < Forged; i += 10)
            {
                // Eleven recipients: over the limit of ten at once.
                Assert.StartsWith("HOLD", await client.AskAsync(PolicyClient.Request("DATA", null, $"ceo{i}@victim.example", 11, $"f{i}", "203.0.113.66")),
                    StringComparison.Ordinal);
            }
        });

        using var admin = new HttpClient { BaseAddress = new Uri(server.AdminUrl) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminToken);
        await Eventually.TrueAsync(() => hook.Requests >= 1, "the alert");
        await Task.Delay(2000);
        var incidents = JsonNode.Parse(await admin.GetStringAsync("api/incidents?limit=1000"))!.AsArray();
        var suspended = (await server.Accounts.ListSuspensionsAsync()).Count;
        output.WriteLine($"{Forged} forged senders over the limit: {suspended} suspended, {incidents.Count} incidents, {webhooks} webhook posts");

        Assert.Equal(Forged, suspended);
        var incident = Assert.Single(incidents)!;
        Assert.Equal(1, webhooks);
        Assert.Equal(Forged - 1, incident["evidence"]!["grouped"]!.AsArray().Count);
        Assert.Contains("no login was involved", incident["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        // Still held: each forged sender is suspended.
        await using (var again = await PolicyClient.ConnectAsync(server.Tcp))
        {
            Assert.StartsWith("HOLD", await again.AskAsync(PolicyClient.Request("DATA", null, "ceo123@victim.example", 1, "again", "203.0.113.66")),
                StringComparison.Ordinal);
        }

        var key = incident["identity"]!["key"]!.GetValue<string>();
        var release = await admin.PostAsJsonAsync($"api/accounts/{Uri.EscapeDataString(key)}/release", new { mode = "keep" });
        Assert.True(release.IsSuccessStatusCode, await release.Content.ReadAsStringAsync());
        Assert.Empty(await server.Accounts.ListSuspensionsAsync());
        Assert.Empty(JsonNode.Parse(await admin.GetStringAsync("api/incidents?open=true"))!.AsArray());
    }
}
