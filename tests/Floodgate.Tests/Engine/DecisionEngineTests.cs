using Floodgate.Engine;
using Floodgate.Storage;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Engine;

public class DecisionEngineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private static (DecisionEngine Engine, MemoryAccountStore Accounts) Build(RuleSet rules)
    {
        var accounts = new MemoryAccountStore();
        return (new DecisionEngine(rules, new MemoryCounterStore(rules), accounts), accounts);
    }

    private static Decision Send(DecisionEngine engine, string? account, int recipients, DateTimeOffset at,
        string? sender = null, string client = "192.0.2.1", DecisionStage stage = DecisionStage.Count) =>
        engine.DecideNow(new Submission(account, sender ?? account ?? "", recipients, 1000, client, at), stage);

    [Fact]
    public void Limit_AllowsExactlyMax_ThenRefusesWithTheRuleAndAReason()
    {
        var (engine, _) = Build(new RuleSet([new LimitRule("burst", Scope.Account, LimitUnit.Messages, 3, TimeSpan.FromMinutes(1), LimitAction.Defer)]));

        var verdicts = Enumerable.Range(0, 5).Select(i => Send(engine, "alice@example.com", 1, T0.AddSeconds(i))).ToList();

        Assert.Equal([Verdict.Accept, Verdict.Accept, Verdict.Accept, Verdict.Defer, Verdict.Defer], verdicts.Select(v => v.Verdict));
        var refused = verdicts[3];
        Assert.Equal("burst", refused.Rule!.Name);
        Assert.Equal(new Identity(Scope.Account, "alice@example.com"), refused.Identity);
        Assert.Equal("account:alice@example.com has sent 3 of 3 messages allowed per 1m and this message adds 1 (rule burst)", refused.Reason);
    }

    [Fact]
    public void Limit_RoomReturnsWhenTheWindowHasPassed()
    {
        var (engine, _) = Build(new RuleSet([new LimitRule("burst", Scope.Account, LimitUnit.Messages, 2, TimeSpan.FromMinutes(1), LimitAction.Defer)]));
        Send(engine, "a@x.org", 1, T0);
        Send(engine, "a@x.org", 1, T0.AddSeconds(30));

        Assert.Equal(Verdict.Defer, Send(engine, "a@x.org", 1, T0.AddSeconds(59)).Verdict);

        // One slot (60s/31, about 2s) past the window, the first message no longer counts.
        Assert.Equal(Verdict.Accept, Send(engine, "a@x.org", 1, T0.AddSeconds(62)).Verdict);
        Assert.Equal(Verdict.Defer, Send(engine, "a@x.org", 1, T0.AddSeconds(63)).Verdict);
    }

    [Fact]
    public void Recipients_AMessageToNCountsNRecipientsAndOneMessage()
    {
        var rules = new RuleSet([
            new LimitRule("msgs", Scope.Account, LimitUnit.Messages, 10, TimeSpan.FromHours(1), LimitAction.Defer),
            new LimitRule("rcpts", Scope.Account, LimitUnit.Recipients, 25, TimeSpan.FromHours(1), LimitAction.Defer)]);
        var (engine, _) = Build(rules);
        var counts = new long[2];

        engine.DecideNow(new Submission("a@x.org", "a@x.org", 20, 0, null, T0), DecisionStage.Count, counts);
        Assert.Equal([1, 20], counts);

        var refused = engine.DecideNow(new Submission("a@x.org", "a@x.org", 6, 0, null, T0), DecisionStage.Count, counts);
        Assert.Equal("rcpts", refused.Rule!.Name);
        Assert.Equal([1, 20], counts);
    }

    [Fact]
    public void Refused_MailIsNeverCounted_InAnyRule()
    {
        var rules = new RuleSet([
            new LimitRule("small", Scope.Account, LimitUnit.Recipients, 5, TimeSpan.FromMinutes(1), LimitAction.Defer),
            new LimitRule("big", Scope.Account, LimitUnit.Recipients, 100, TimeSpan.FromHours(1), LimitAction.Hold)]);
        var (engine, _) = Build(rules);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(Verdict.Defer, Send(engine, "a@x.org", 6, T0.AddSeconds(i)).Verdict);
        }

        var counts = new long[2];
        engine.DecideNow(new Submission("a@x.org", "a@x.org", 5, 0, null, T0.AddSeconds(60)), DecisionStage.Count, counts);
        Assert.Equal([5, 5], counts);
    }

    [Fact]
    public void SeveralRulesFire_TheMostSevereWins()
    {
        var rules = new RuleSet([
            new LimitRule("d", Scope.Account, LimitUnit.Messages, 1, TimeSpan.FromMinutes(1), LimitAction.Defer),
            new LimitRule("r", Scope.ClientIp, LimitUnit.Messages, 1, TimeSpan.FromMinutes(1), LimitAction.Reject),
            new LimitRule("h", Scope.SenderDomain, LimitUnit.Messages, 1, TimeSpan.FromMinutes(1), LimitAction.Hold)]);
        var (engine, _) = Build(rules);
        Send(engine, "a@x.org", 1, T0);

        var d = Send(engine, "a@x.org", 1, T0.AddSeconds(1));

        Assert.Equal(Verdict.Reject, d.Verdict);
        Assert.Equal("r", d.Rule!.Name);
        Assert.Equal(new Identity(Scope.ClientIp, "192.0.2.1"), d.Identity);
    }

    [Fact]
    public async Task Suspend_StopsEverythingTheAccountSends_UntilReleased()
    {
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Recipients, 10, TimeSpan.FromHours(1), LimitAction.Suspend)]);
        var (engine, accounts) = Build(rules);
        Assert.Equal(Verdict.Accept, Send(engine, "mallory@x.org", 10, T0).Verdict);

        var tripped = Send(engine, "mallory@x.org", 1, T0.AddMinutes(1));
        Assert.Equal(Verdict.Hold, tripped.Verdict);
        Assert.True(tripped.NewlySuspended);
        Assert.Equal(new Identity(Scope.Account, "mallory@x.org"), tripped.Suspension!.Identity);

        // Two hours later the window is empty, but the account stays suspended; other accounts are unaffected.
        var later = Send(engine, "Mallory@X.org", 1, T0.AddHours(2));
        Assert.Equal(Verdict.Hold, later.Verdict);
        Assert.Equal(DecisionCause.Suspended, later.Cause);
        Assert.False(later.NewlySuspended);
        Assert.Equal("hourly", later.Rule!.Name);
        Assert.Contains("is suspended since", later.Reason, StringComparison.Ordinal);
        Assert.Equal(Verdict.Accept, Send(engine, "bob@x.org", 1, T0.AddHours(2)).Verdict);
        Assert.Single(await accounts.ListSuspensionsAsync());

        Assert.True(await accounts.ReleaseAsync(new Identity(Scope.Account, "mallory@x.org")));
        Assert.Equal(Verdict.Accept, Send(engine, "mallory@x.org", 1, T0.AddHours(2)).Verdict);
    }

    [Theory]
    [InlineData(Verdict.Defer)]
    [InlineData(Verdict.Reject)]
    public void Suspend_UsesTheConfiguredSuspendedVerdict(Verdict suspended)
    {
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 1, TimeSpan.FromHours(1), LimitAction.Suspend)], suspendedVerdict: suspended);
        var (engine, _) = Build(rules);
        Send(engine, "m@x.org", 1, T0);
        Assert.Equal(suspended, Send(engine, "m@x.org", 1, T0).Verdict);
        Assert.Equal(suspended, Send(engine, "m@x.org", 1, T0).Verdict);
    }

    [Fact]
    public void Overrides_AccountBeatsDomainBeatsRule()
    {
        var overrides = new Dictionary<string, long> { ["newsletter@example.com"] = 5, ["bulk.example"] = 3 };
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 1, TimeSpan.FromHours(1), LimitAction.Defer, overrides)]);
        var (engine, _) = Build(rules);

        int Accepted(string account) => Enumerable.Range(0, 10).Count(_ => Send(engine, account, 1, T0).Verdict == Verdict.Accept);

        Assert.Equal(5, Accepted("Newsletter@Example.com"));
        Assert.Equal(3, Accepted("anyone@bulk.example"));
        Assert.Equal(1, Accepted("someone@example.com"));
    }

    [Fact]
    public void Exempt_AccountsAndDomainsAreNeitherLimitedNorCounted()
    {
        var rules = new RuleSet([new LimitRule("hourly", Scope.Account, LimitUnit.Messages, 1, TimeSpan.FromHours(1), LimitAction.Defer)],
            exempt: ["monitoring@example.com", "trusted.example"]);
        var (engine, _) = Build(rules);

        Assert.All(Enumerable.Range(0, 20), _ => Assert.Equal(Verdict.Accept, Send(engine, "monitoring@example.com", 5, T0).Verdict));
        Assert.Equal(DecisionCause.Exempt, Send(engine, "x@trusted.example", 1, T0).Cause);
        Assert.Equal(Verdict.Accept, Send(engine, "other@example.com", 1, T0).Verdict);
        Assert.Equal(Verdict.Defer, Send(engine, "other@example.com", 1, T0).Verdict);
    }

    [Fact]
    public void CheckStage_EnforcesExhaustedLimitsWithoutCounting()
    {
        var rules = new RuleSet([new LimitRule("burst", Scope.Account, LimitUnit.Recipients, 3, TimeSpan.FromMinutes(1), LimitAction.Defer)]);
        var (engine, _) = Build(rules);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(Verdict.Accept, Send(engine, "a@x.org", 0, T0, stage: DecisionStage.Check).Verdict);
        }

        Assert.Equal(Verdict.Accept, Send(engine, "a@x.org", 3, T0).Verdict);
        Assert.Equal(Verdict.Defer, Send(engine, "a@x.org", 0, T0, stage: DecisionStage.Check).Verdict);
    }

    [Theory]
    [InlineData(FallbackIdentity.Sender, "bounce-sender@example.com", "bounce-sender@example.com")]
    [InlineData(FallbackIdentity.Sender, "", "192.0.2.1")]
    [InlineData(FallbackIdentity.ClientIp, "someone@example.com", "192.0.2.1")]
    [InlineData(FallbackIdentity.None, "someone@example.com", null)]
    public void Unauthenticated_AccountFallsBackAsConfigured(FallbackIdentity fallback, string sender, string? expectedAccount)
    {
        var keys = IdentityKeys.Of(new Submission(null, sender, 1, 0, "192.0.2.1", T0), fallback);
        Assert.Equal(expectedAccount, keys.Account);
    }

    [Fact]
    public void Unauthenticated_WithNoAccount_AccountRulesDoNotApply()
    {
        var rules = new RuleSet([new LimitRule("burst", Scope.Account, LimitUnit.Messages, 1, TimeSpan.FromMinutes(1), LimitAction.Defer)], FallbackIdentity.None);
        var (engine, _) = Build(rules);
        Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal(Verdict.Accept, Send(engine, null, 1, T0, sender: "x@y.org").Verdict));
    }

    [Fact]
    public void Identities_AreCaseInsensitive_AndDomainsAreCountedTogether()
    {
        var rules = new RuleSet([new LimitRule("dom", Scope.SenderDomain, LimitUnit.Messages, 2, TimeSpan.FromMinutes(1), LimitAction.Defer)]);
        var (engine, _) = Build(rules);
        Assert.Equal(Verdict.Accept, Send(engine, "a@Example.COM", 1, T0).Verdict);
        Assert.Equal(Verdict.Accept, Send(engine, "b@example.com", 1, T0).Verdict);
        var third = Send(engine, "c@EXAMPLE.com", 1, T0);
        Assert.Equal(Verdict.Defer, third.Verdict);
        Assert.Equal(new Identity(Scope.SenderDomain, "example.com"), third.Identity);
    }
}
