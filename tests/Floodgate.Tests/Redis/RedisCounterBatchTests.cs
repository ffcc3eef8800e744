using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Storage;

namespace Floodgate.Tests.Redis;

/// <summary>
/// Decisions that arrive together share one script call: each must still be decided as if alone, in turn, with its
/// own counts, whether several of one batch hit the same ring or only check.
/// </summary>
[Collection(RedisGroup.Name)]
public sealed class RedisCounterBatchTests(RedisInstance redis) : IAsyncLifetime
{
    private RedisStore? _store;

    public async Task InitializeAsync() => _store = await redis.ConnectAsync("batch:", FailMode.Closed);

    public async Task DisposeAsync() => await _store!.DisposeAsync();

    [Fact]
    public async Task ConcurrentDecisions_OnSharedRings_EachAccountCountedExactlyToItsMax_WithDistinctCounts()
    {
        const int Accounts = 10, PerAccount = 40, Max = 7;
        var rules = new RuleSet([
            new LimitRule("account", Scope.Account, LimitUnit.Messages, Max, TimeSpan.FromHours(1), LimitAction.Defer),
            new LimitRule("client", Scope.ClientIp, LimitUnit.Messages, 10_000, TimeSpan.FromHours(1), LimitAction.Defer),
        ]);
        var engine = new DecisionEngine(rules, new RedisCounterStore(_store!, new MemoryCounterStore(rules), $"batch:{Guid.NewGuid():N}:"),
            new MemoryAccountStore());
        var now = DateTimeOffset.UtcNow;

        // Every account sends from the same client address, so every decision of a batch shares that ring; one in
        // four is a check-stage decision, which counts nowhere.
        var work = Enumerable.Range(0, Accounts * PerAccount).Select(i => Task.Run(async () =>
        {
            var account = $"u{i % Accounts}@example.com";
            var stage = i % 4 == 3 ? DecisionStage.Check : DecisionStage.Count;
            var counts = new long[rules.Rules.Count];
            var d = await engine.DecideAsync(new Submission(account, account, 1, 0, "192.0.2.1", now), stage, counts);
            return (account, stage, d.Verdict, Count: counts[0]);
        })).ToList();
        var results = await Task.WhenAll(work);

        foreach (var group in results.Where(r => r.stage == DecisionStage.Count).GroupBy(r => r.account))
        {
            var accepted = group.Where(r => r.Verdict == Verdict.Accept).Select(r => r.Count).Order().ToList();
            Assert.Equal(Enumerable.Range(1, Max).Select(n => (long)n), accepted);
        }

        var after = new long[rules.Rules.Count];
        await engine.DecideAsync(new Submission("fresh@example.com", "fresh@example.com", 1, 0, "192.0.2.1", now), DecisionStage.Check, after);
        Assert.Equal(Accounts * Max, after[1]);
    }
}
