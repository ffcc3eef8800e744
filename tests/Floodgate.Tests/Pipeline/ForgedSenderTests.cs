using Floodgate.Incidents;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Pipeline;

/// <summary>Mail without a login that names a real login's address as its sender can never hold, suspend or use up that login.</summary>
public class ForgedSenderTests
{
    private const string Limits = """
        limits:
          - { name: hourly, scope: account, unit: recipients, max: 500, per: 1h, action: suspend }
          - { name: per_sender, scope: sender, unit: recipients, max: 500, per: 1h, action: suspend }
        """;

    [Theory]
    [InlineData("203.0.113.9")]
    [InlineData("127.0.0.1")]
    public async Task ForgedSender_FromAnyClientWithoutLogin_NeverStopsTheRealLogin(string forgedFrom)
    {
        await using var server = await TestServer.StartAsync(Limits);
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);

        // The forger: no login, sender=alice, 501 recipients (over both limits at once).
        var forged = await client.AskAsync(PolicyClient.Request("DATA", null, "Alice@Example.com", 501, "f1", forgedFrom));
        Assert.StartsWith("HOLD", forged, StringComparison.Ordinal);

        // Alice herself, logged in, in any letter case: within her limits (400 of 500), untouched by the forger's suspension.
        foreach (var login in new[] { "alice@example.com", "ALICE@example.com" })
        {
            var own = await client.AskAsync(PolicyClient.Request("DATA", login, "alice@example.com", 200, "a-" + login, "192.0.2.7"));
            Assert.Equal("DUNNO", own);
        }

        var incident = Assert.Single(server.Service<IncidentBook>().OpenIncidents);
        Assert.Equal("sender:alice@example.com (no login)", incident.Identity.ToString());
        Assert.Contains("no login was involved", incident.Reason, StringComparison.Ordinal);
        Assert.False(incident.Evidence.LoginInvolved);
        Assert.Equal(1, incident.Evidence.WithoutLogin);
        Assert.Empty(await server.Accounts.ListSuspensionsAsync() is var all ? all.Where(s => s.Identity.Scope == Floodgate.Engine.Scope.Account) : []);
    }

    [Fact]
    public async Task TrustedNetworkWithSenderFallback_CountsTheSenderAsTheAccount()
    {
        // Where the admin says so (identity.fallback: sender), mail without a login from a trusted network is the account.
        await using var server = await TestServer.StartAsync("identity: { fallback: sender, trusted_networks: [127.0.0.0/8] }\n" + Limits);
        await using var client = await PolicyClient.ConnectAsync(server.Tcp);
        Assert.StartsWith("HOLD", await client.AskAsync(PolicyClient.Request("DATA", null, "webmail-user@example.com", 501, "w1", "127.0.0.1")), StringComparison.Ordinal);
        Assert.StartsWith("HOLD", await client.AskAsync(PolicyClient.Request("DATA", "webmail-user@example.com", "webmail-user@example.com", 1, "w2", "192.0.2.7")),
            StringComparison.Ordinal);

        // From outside the trusted networks the same request is not the account.
        Assert.Equal("DUNNO", await client.AskAsync(PolicyClient.Request("DATA", null, "other@example.com", 400, "o1", "203.0.113.9")));
        Assert.DoesNotContain(await server.Accounts.ListSuspensionsAsync(), s => s.Identity.ToString() == "account:other@example.com");
    }
}
