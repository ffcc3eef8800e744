using Floodgate.Engine;
using Floodgate.Storage;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Observe;

/// <summary>The engine's half of observe mode: verdicts that become would-have, counting, suspensions.</summary>
public sealed class ObserveEngineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private static Decision Send(DecisionEngine engine, string account, int i, long[]? counts = null, DecisionStage stage = DecisionStage.Count) =>
        engine.DecideNow(new Submission(account, account, 1, 1000, "192.0.2.1", T0.AddSeconds(i)), stage, counts);

    [Fact]
    public void ObservedLimit_AcceptsAndCounts_WithTheVerdictItWouldHaveGiven()
    {
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 2, TimeSpan.FromHours(1), LimitAction.Hold) { Mode = EnforcementMode.Observe }]);
        var engine = new DecisionEngine(rules, new MemoryCounterStore(rules), new MemoryAccountStore());
        var counts = new long[1];
        var decisions = Enumerable.Range(0, 4).Select(i => Send(engine, "a@x.org", i, counts)).ToList();

        Assert.All(decisions, d => Assert.Equal(Verdict.Accept, d.Verdict));
        Assert.Equal([Verdict.Accept, Verdict.Accept, Verdict.Hold, Verdict.Hold], decisions.Select(d => d.Observed));
        Assert.Equal(4, counts[0]);
        Assert.Equal(3, decisions[3].Count);
        Assert.Equal(2, decisions[3].Max);
        Assert.Equal("observe mode, not enforced: would have held: account:a@x.org has sent 3 of 2 messages allowed per 1h and this message adds 1 (rule hourly)", decisions[3].Reason);
    }

    [Fact]
    public void EnforcingLimit_StillRefuses_AndCountsNothing_WhenAnObservedOneIsAlsoOver()
    {
        var rules = new RuleSet([
            new LimitRule("trial", Scope.Account, LimitUnit.Messages, 1, TimeSpan.FromHours(1), LimitAction.Reject) { Mode = EnforcementMode.Observe },
            new LimitRule("hard", Scope.Account, LimitUnit.Messages, 2, TimeSpan.FromHours(1), LimitAction.Defer)]);
        var engine = new DecisionEngine(rules, new MemoryCounterStore(rules), new MemoryAccountStore());
        var counts = new long[2];
        Assert.Equal(Verdict.Accept, Send(engine, "a@x.org", 0).Observed);
        Assert.Equal(Verdict.Reject, Send(engine, "a@x.org", 1).Observed);

        var refused = Send(engine, "a@x.org", 2, counts);
        Assert.Equal(Verdict.Defer, refused.Verdict);
        Assert.Equal("hard", refused.Rule!.Name);
        Assert.False(refused.IsObserved);
        Assert.Equal([2, 2], counts);
    }

    [Fact]
    public async Task ObservedSuspendLimit_SuspendsNobody_ButSaysItWouldHave()
    {
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 1, TimeSpan.FromHours(1), LimitAction.Suspend)]) { Mode = EnforcementMode.Observe };
        var accounts = new MemoryAccountStore();
        var engine = new DecisionEngine(rules, new MemoryCounterStore(rules), accounts);
        Send(engine, "a@x.org", 0);
        var would = Send(engine, "a@x.org", 1);

        Assert.Equal(Verdict.Accept, would.Verdict);
        Assert.Equal(Verdict.Hold, would.Observed);
        Assert.True(would.WouldSuspend);
        Assert.False(would.NewlySuspended);
        Assert.Equal(new Identity(Scope.Account, "a@x.org"), would.Suspension!.Identity);
        Assert.EndsWith("; account:a@x.org would have been suspended", would.Reason, StringComparison.Ordinal);
        Assert.Empty(await accounts.ListSuspensionsAsync());
    }

    [Fact]
    public async Task GlobalObserve_AnAccountAlreadySuspended_IsAcceptedAndCounted_AsWouldHaveBeenHeld()
    {
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 100, TimeSpan.FromHours(1), LimitAction.Defer)]);
        var accounts = new MemoryAccountStore();
        var engine = new DecisionEngine(rules, new MemoryCounterStore(rules), accounts);
        await accounts.SuspendAsync(new Suspension(new Identity(Scope.Account, "a@x.org"), T0, null, "by hand", "admin"));
        Assert.Equal(Verdict.Hold, Send(engine, "a@x.org", 0).Verdict);

        rules.Mode = EnforcementMode.Observe;
        var counts = new long[1];
        var observed = Send(engine, "a@x.org", 1, counts);
        Assert.Equal(Verdict.Accept, observed.Verdict);
        Assert.Equal(Verdict.Hold, observed.Observed);
        Assert.Equal(DecisionCause.Suspended, observed.Cause);
        Assert.Equal(1, counts[0]);

        // Back to enforce (a reload): the suspension is in force again.
        rules.Mode = EnforcementMode.Enforce;
        Assert.Equal(Verdict.Hold, Send(engine, "a@x.org", 2).Verdict);
    }

    [Fact]
    public void Replay_IgnoresModes_AndDecidesAsEnforce()
    {
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 1, TimeSpan.FromHours(1), LimitAction.Defer)]) { Mode = EnforcementMode.Observe };
        var engine = new DecisionEngine(rules, new MemoryCounterStore(rules), new MemoryAccountStore()) { IgnoresModes = true };
        Send(engine, "a@x.org", 0);
        var refused = Send(engine, "a@x.org", 1);
        Assert.Equal(Verdict.Defer, refused.Verdict);
        Assert.False(refused.IsObserved);
    }
}
