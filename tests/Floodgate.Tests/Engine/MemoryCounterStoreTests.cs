using Floodgate.Engine;
using Floodgate.Storage;
using Floodgate.Tests.Alerts;
using Floodgate.Tests.Support;
using Xunit.Abstractions;

namespace Floodgate.Tests.Engine;

[Collection(SerialGroup.Name)]
public class MemoryCounterStoreTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private static RuleSet DefaultRules() => new([
        new LimitRule("burst", Scope.Account, LimitUnit.Recipients, 60, TimeSpan.FromMinutes(1), LimitAction.Defer),
        new LimitRule("hourly", Scope.Account, LimitUnit.Recipients, 500, TimeSpan.FromHours(1), LimitAction.Suspend),
        new LimitRule("daily", Scope.Account, LimitUnit.Recipients, 2000, TimeSpan.FromHours(24), LimitAction.Suspend)]);

    [Fact]
    public void Store_IdleIdentitiesAreReclaimed_ActiveOnesKept()
    {
        var rules = DefaultRules();
        var store = new MemoryCounterStore(rules);
        var engine = new DecisionEngine(rules, store, new MemoryAccountStore());
        for (var i = 0; i < 1000; i++)
        {
            engine.DecideNow(new Submission($"user{i}@example.com", null, 1, 0, null, T0), DecisionStage.Count);
        }

        engine.DecideNow(new Submission("late@example.com", null, 1, 0, null, T0.AddHours(23)), DecisionStage.Count);
        Assert.Equal(1001, store.TrackedIdentities);

        Assert.Equal(0, store.Sweep(T0.AddHours(23)));
        Assert.Equal(1000, store.Sweep(T0.AddHours(25)));
        Assert.Equal(1, store.TrackedIdentities);

        // A reclaimed identity starts from nothing; the kept one still has its count.
        var counts = new long[3];
        engine.DecideNow(new Submission("user1@example.com", null, 1, 0, null, T0.AddHours(25)), DecisionStage.Count, counts);
        Assert.Equal([1, 1, 1], counts);
        engine.DecideNow(new Submission("late@example.com", null, 1, 0, null, T0.AddHours(25)), DecisionStage.Count, counts);
        Assert.Equal([1, 1, 2], counts);
    }

    [Fact]
    public void Store_MemoryPerTrackedIdentityAndRule_IsAtMost256Bytes()
    {
        var rules = DefaultRules();
        var store = new MemoryCounterStore(rules);
        var charges = new CounterCharge[3];
        var counts = new long[3];
        const int Identities = 100_000;
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < Identities; i++)
        {
            // The key string is counted too: the store keeps it.
            var key = $"user{i:D6}@example.com";
            for (var r = 0; r < 3; r++)
            {
                charges[r] = new CounterCharge(rules.Rules[r], key, 1, 100);
            }

            store.Charge(charges, counts, T0, commit: true);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(store);
        var perIdentityRule = (after - before) / (Identities * 3.0);
        output.WriteLine($"{perIdentityRule:F0} bytes per tracked identity and rule ({(after - before) / (double)Identities:F0} per identity with 3 rules)");

        Assert.True(perIdentityRule <= 256, $"{perIdentityRule:F0} bytes per identity and rule");
    }

    [Fact]
    public void Store_ConcurrentChargesForOneIdentity_NeverExceedMax()
    {
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 1000, TimeSpan.FromHours(1), LimitAction.Defer)]);
        var engine = new DecisionEngine(rules, new MemoryCounterStore(rules), new MemoryAccountStore());
        var accepted = 0;
        Parallel.For(0, 5000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            if (engine.DecideNow(new Submission("hot@example.com", null, 1, 0, null, T0), DecisionStage.Count).Verdict == Verdict.Accept)
            {
                Interlocked.Increment(ref accepted);
            }
        });
        Assert.Equal(1000, accepted);
    }

    [Fact]
    public async Task Budget_ForgetsIdleIdentitiesWithoutALoginFirst_AndStaysWithinIt()
    {
        var rules = new RuleSet([
            new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 100, TimeSpan.FromHours(1), LimitAction.Defer),
            new LimitRule("senders", Scope.Sender, LimitUnit.Messages, 100, TimeSpan.FromHours(1), LimitAction.Defer)]);
        var probe = new MemoryCounterStore(rules);
        var perLogin = probe.BytesOf(Scope.Account, "user0000@example.com") + probe.BytesOf(Scope.Sender, "user0000@example.com");
        var budget = 1500 * perLogin;
        var store = new MemoryCounterStore(rules, budget);
        var passes = new List<EvictionPass>();
        store.Evicted += passes.Add;
        using var stop = new CancellationTokenSource();
        var keeper = store.KeepWithinBudgetAsync(stop.Token);
        var engine = new DecisionEngine(rules, store, new MemoryAccountStore());

        // 1,000 logins send first; then a flood of forged senders without a login (untrusted clients), then the logins again.
        for (var i = 0; i < 1000; i++)
        {
            engine.DecideNow(new Submission($"user{i:D4}@example.com", $"user{i:D4}@example.com", 1, 0, "192.0.2.1", T0.AddSeconds(i)), DecisionStage.Count);
        }

        for (var i = 0; i < 20_000; i++)
        {
            engine.DecideNow(new Submission(null, $"forged{i:D5}@example.net", 1, 0, "203.0.113.9", T0.AddMinutes(20).AddMilliseconds(i))
            {
                Trust = ClientTrust.Untrusted,
            }, DecisionStage.Count);
        }

        await Eventually.TrueAsync(() => store.MemoryUsed <= budget && passes.Count > 0, "the budget kept after the forged flood", 10);
        output.WriteLine($"{store.TrackedIdentities} identities in {store.MemoryUsed} of {budget} bytes; {store.EvictedTotal} forgotten in {passes.Count} passes");

        // Every login kept its count (each was counted once): the forged senders went, not the logins.
        var counts = new long[2];
        for (var i = 0; i < 1000; i++)
        {
            engine.DecideNow(new Submission($"user{i:D4}@example.com", null, 1, 0, "192.0.2.1", T0.AddMinutes(30)), DecisionStage.Count, counts);
            Assert.Equal(2, counts[0]);
        }

        Assert.True(store.EvictedTotal >= 18_000, $"{store.EvictedTotal} forgotten");
        Assert.Equal(store.EvictedTotal, passes.Sum(p => p.Evicted));
        Assert.Equal(store.EvictedTotal, passes.Sum(p => p.WithoutLogin));
        Assert.All(store.TakeEvicted(), i => Assert.EndsWith(IdentityKeys.NoLoginMark, i.Key));

        // Once only logins are left to forget, the least recently used go first.
        for (var i = 0; i < 2000; i++)
        {
            engine.DecideNow(new Submission($"new{i:D4}@example.com", $"new{i:D4}@example.com", 1, 0, "192.0.2.1", T0.AddMinutes(40).AddMilliseconds(i)), DecisionStage.Count);
        }

        await Eventually.TrueAsync(() => store.MemoryUsed <= budget, "the budget kept after the new logins", 10);
        engine.DecideNow(new Submission("new1999@example.com", null, 1, 0, "192.0.2.1", T0.AddMinutes(50)), DecisionStage.Count, counts);
        Assert.Equal(2, counts[0]);
        engine.DecideNow(new Submission("user0000@example.com", null, 1, 0, "192.0.2.1", T0.AddMinutes(50)), DecisionStage.Count, counts);
        Assert.Equal(1, counts[0]);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => keeper);
    }
}
