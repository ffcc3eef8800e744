using System.Text.Json.Nodes;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Redis;

/// <summary>Two Floodgate nodes on different ports sharing one real redis-server: one ledger, one account state.</summary>
[Collection(RedisGroup.Name)]
public sealed class ClusterTests(RedisInstance redis)
{
    [Fact]
    public async Task TwoNodes_LoadForThousandAccountsSplitAcrossBoth_EachAcceptedExactlyMinSentMax()
    {
        const int Max = 5;

        // Fail mode closed: a decision that did not go through Redis would defer and break the exact count.
        var yaml = redis.Yaml($"two:{Guid.NewGuid():N}:", failMode: "closed")
            + $"limits:\n  - {{ name: hourly, scope: account, unit: messages, max: {Max}, per: 1h, action: defer }}\n";
        await using var a = await TestServer.StartAsync(yaml);
        await using var b = await TestServer.StartAsync(yaml);
        Assert.NotEqual(a.Tcp.Port, b.Tcp.Port);

        // Account i sends i % 11 messages (0 to 10), alternating between the nodes, in a shuffled order.
        var sent = Enumerable.Range(0, 1000).ToDictionary(i => $"user{i}@example.com", i => i % 11);
        var messages = Enumerable.Range(0, 1000).SelectMany(i => Enumerable.Range(0, i % 11).Select(j => (Node: (i + j) % 2, Account: $"user{i}@example.com"))).ToList();
        var random = new Random(7);
        messages = [.. messages.OrderBy(_ => random.Next())];

        var answers = await ClusterNodes.SendAsync([a, b], messages, connectionsPerNode: 8);

        var wrong = new List<string>();
        foreach (var (account, count) in sent)
        {
            var got = answers.TryGetValue(account, out var bag) ? bag.ToList() : [];
            var accepted = got.Count(x => x == "DUNNO");
            var deferred = got.Count(x => x.StartsWith("DEFER_IF_PERMIT 4.7.1", StringComparison.Ordinal));
            if (accepted != Math.Min(count, Max) || accepted + deferred != count)
            {
                wrong.Add($"{account}: sent {count}, accepted {accepted}, deferred {deferred}, other: {string.Join("; ", got.Where(x => x != "DUNNO" && !x.StartsWith("DEFER_IF_PERMIT 4.7.1", StringComparison.Ordinal)).Distinct())}");
            }
        }

        Assert.True(wrong.Count == 0, $"{wrong.Count} accounts off: {string.Join("\n", wrong.Take(10))}");
        Assert.Equal(4995, messages.Count);
        Assert.InRange(a.DecisionLines.Count, 2400, 2600);
        Assert.InRange(b.DecisionLines.Count, 2400, 2600);

        // Each node's admin surface shows the cluster's counts, not the half it decided itself.
        foreach (var node in new[] { a, b })
        {
            using var admin = ClusterNodes.Admin(node);
            var account = JsonNode.Parse(await admin.GetStringAsync("api/accounts/user10@example.com"))!;
            Assert.Equal(Max, account["counters"]![0]!["count"]!.GetValue<long>());
            var listed = JsonNode.Parse(await admin.GetStringAsync("api/accounts?limit=5000"))!.AsArray();
            Assert.Equal(sent.Count(s => s.Value > 0), listed.Count);
        }
    }

    [Fact]
    public async Task Suspension_OnNodeA_HoldsOnNodeBWithinOneSecond_AndReleaseOnB_HoldsOnA()
    {
        var yaml = redis.Yaml($"susp:{Guid.NewGuid():N}:")
            + "limits:\n  - { name: hourly, scope: account, unit: messages, max: 100, per: 1h, action: suspend }\n";
        await using var a = await TestServer.StartAsync(yaml);
        await using var b = await TestServer.StartAsync(yaml);
        using var adminA = ClusterNodes.Admin(a);
        using var adminB = ClusterNodes.Admin(b);
        const string Account = "phished@example.com";

        // Both nodes let the account send before anything happens.
        Assert.Equal("DUNNO", (await ClusterNodes.SendAsync([a, b], [(0, Account), (1, Account)], 1))[Account].Distinct().Single());

        (await adminA.PostAsync($"api/accounts/{Account}/suspend", JsonContent("{\"reason\":\"helpdesk says phished\"}"))).EnsureSuccessStatusCode();
        var seen = await ClusterNodes.UntilAnswerAsync(b, Account, x => x.StartsWith("HOLD", StringComparison.Ordinal), TimeSpan.FromSeconds(1));

        // Node B's admin surface shows the cluster's suspension and incident, made on node A.
        var accountOnB = JsonNode.Parse(await adminB.GetStringAsync($"api/accounts/{Account}"))!;
        Assert.Equal("suspended", accountOnB["state"]!.GetValue<string>());
        var incidentsOnB = JsonNode.Parse(await adminB.GetStringAsync("api/incidents?open=true"))!.AsArray();
        Assert.Contains(incidentsOnB, i => i!["identity"]!["key"]!.GetValue<string>() == Account);

        (await adminB.PostAsync($"api/accounts/{Account}/release", JsonContent("{\"mode\":\"keep\"}"))).EnsureSuccessStatusCode();
        var released = await ClusterNodes.UntilAnswerAsync(a, Account, x => x == "DUNNO", TimeSpan.FromSeconds(1));

        // The incident node A opened is closed, by node B's release, on node A's surface too.
        await Alerts.Eventually.TrueAsync(
            () => JsonNode.Parse(adminA.GetStringAsync("api/incidents?open=true").Result)!.AsArray().Count == 0, "node A to show no open incident", seconds: 2);
        var all = JsonNode.Parse(await adminA.GetStringAsync("api/incidents?limit=10"))!.AsArray();
        Assert.Equal("released", Assert.Single(all)!["resolution"]!.GetValue<string>());
        Assert.True(seen < TimeSpan.FromSeconds(1) && released < TimeSpan.FromSeconds(1), $"suspension seen after {seen}, release after {released}");
    }

    [Fact]
    public async Task FloodOverBothNodes_TripsTheSuspendLimitOnce_OneIncidentInTheCluster_AndBothHold()
    {
        var yaml = redis.Yaml($"flood:{Guid.NewGuid():N}:")
            + "limits:\n  - { name: hourly, scope: account, unit: messages, max: 10, per: 1h, action: suspend }\n";
        await using var a = await TestServer.StartAsync(yaml);
        await using var b = await TestServer.StartAsync(yaml);
        const string Account = "hijacked@example.com";

        var answers = (await ClusterNodes.SendAsync([a, b], Enumerable.Range(0, 60).Select(i => (i % 2, Account)), connectionsPerNode: 4))[Account].ToList();

        Assert.Equal(10, answers.Count(x => x == "DUNNO"));
        Assert.Equal(50, answers.Count(x => x.StartsWith("HOLD", StringComparison.Ordinal)));
        using var adminA = ClusterNodes.Admin(a);
        using var adminB = ClusterNodes.Admin(b);
        var incidents = JsonNode.Parse(await adminB.GetStringAsync("api/incidents?limit=10"))!.AsArray();
        var incident = Assert.Single(incidents);
        Assert.Equal(Account, incident!["identity"]!["key"]!.GetValue<string>());
        Assert.Equal("hourly", incident["rule"]!.GetValue<string>());
        Assert.Single(JsonNode.Parse(await adminA.GetStringAsync("api/incidents?open=true"))!.AsArray());
        Assert.Equal(1, a.Logs.Lines.Concat(b.Logs.Lines).Count(l => l.Contains("SUSPENDED account:" + Account, StringComparison.Ordinal)));
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
