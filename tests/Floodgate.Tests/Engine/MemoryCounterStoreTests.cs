using Floodgate.Engine;
using Floodgate.Storage;
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
}
