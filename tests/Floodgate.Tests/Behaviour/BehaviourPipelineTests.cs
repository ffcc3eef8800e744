using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Pipeline;
using Floodgate.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Floodgate.Tests.Behaviour;

/// <summary>Behaviour through the decision pipeline, as every enforcement point meets it: probation holds, suspension as a limit's, observe mode.</summary>
public class BehaviourPipelineTests
{
    private const string Alice = "alice@example.com";

    private static (DecisionPipeline Pipeline, MemoryAccountStore Accounts, EnforcementPoint Point) Build(string mode)
    {
        var options = ConfigLoader.Parse($$"""
            mode: {{mode}}
            listen: { policy: ["127.0.0.1:0"], admin: "127.0.0.1:0", relay: [] }
            limits:
              - { name: hourly, scope: account, unit: recipients, max: 500, per: 1h, action: suspend }
            behaviour: { enabled: true }
            """, "test");
        var accounts = new MemoryAccountStore();
        var engine = new DecisionEngine(options.Rules, new MemoryCounterStore(options.Rules), accounts);
        var watch = BehaviourWatchTests.Seeded(options.Behaviour, accounts);
        var pipeline = new DecisionPipeline(engine, options, DecisionLog.Open("none"), NullLogger<DecisionPipeline>.Instance, behaviour: watch);
        return (pipeline, accounts, new EnforcementPoint("test", new VerdictNames(), []));
    }

    private static async Task<List<Decision>> SendAsync(DecisionPipeline pipeline, EnforcementPoint point, IEnumerable<SentMail> mail)
    {
        var scratch = pipeline.NewScratch(point);
        var decisions = new List<Decision>();
        foreach (var m in mail)
        {
            decisions.Add(await pipeline.DecideAsync(point, m.ToSubmission(), DecisionStage.Count, scratch, "DATA"));
        }

        return decisions;
    }

    [Fact]
    public async Task Pipeline_HoldsMailOnProbation_ThenSuspendsThroughTheAccountStore()
    {
        var (pipeline, accounts, point) = Build("enforce");
        var morning = await SendAsync(pipeline, point, OfficeMail.Normal(Alice, BehaviourWatchTests.TestDay, 1, seed: 2).Where(m => m.At.Hour < 12));
        Assert.All(morning, d => Assert.Equal(Verdict.Accept, d.Verdict));

        var blast = await SendAsync(pipeline, point, OfficeMail.Blast(Alice, BehaviourWatchTests.TestDay.AddHours(12), 200, TimeSpan.FromSeconds(5), recipients: 2));
        var firstHold = blast.FindIndex(d => d.Verdict == Verdict.Hold);
        Assert.InRange(firstHold, 0, 4);
        Assert.Equal(DecisionCause.Probation, blast[firstHold].Cause);
        Assert.StartsWith("probation: score", blast[firstHold].Reason, StringComparison.Ordinal);
        Assert.Equal(new Identity(Scope.Account, Alice), blast[firstHold].Identity);

        var suspending = blast.FindIndex(d => d.NewlySuspended);
        Assert.True(suspending > firstHold, $"suspended at {suspending}");
        Assert.Equal(DecisionCause.Behaviour, blast[suspending].Cause);
        Assert.All(blast.Skip(firstHold).Take(suspending - firstHold), d => Assert.Equal(Verdict.Hold, d.Verdict));
        Assert.All(blast.Skip(suspending + 1), d => Assert.Equal(DecisionCause.Suspended, d.Cause));
        var suspension = Assert.Single(await accounts.ListSuspensionsAsync());
        Assert.Equal(DecisionPipeline.BehaviourRule, suspension.Rule);
        Assert.StartsWith("behaviour: score", suspension.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ObserveMode_AcceptsEveryMessage_AndRecordsWhatBehaviourWouldHaveDone()
    {
        var (pipeline, accounts, point) = Build("observe");
        var blast = await SendAsync(pipeline, point, OfficeMail.Blast(Alice, BehaviourWatchTests.TestDay.AddHours(12), 200, TimeSpan.FromSeconds(5), recipients: 2));
        Assert.All(blast, d => Assert.Equal(Verdict.Accept, d.Verdict));
        var wouldHold = blast.FindIndex(d => d.Observed == Verdict.Hold && d.Cause == DecisionCause.Probation);
        Assert.InRange(wouldHold, 0, 4);
        Assert.StartsWith("observe mode, not enforced: would have held: probation: ", blast[wouldHold].Reason, StringComparison.Ordinal);
        Assert.Contains(blast, d => d.WouldSuspend && d.Cause == DecisionCause.Behaviour);
        Assert.Empty(await accounts.ListSuspensionsAsync());
    }

    [Fact]
    public async Task AdminRelease_OfABehaviourSuspension_StartsTheAccountAfresh()
    {
        var (pipeline, accounts, point) = Build("enforce");
        var blast = await SendAsync(pipeline, point, OfficeMail.Blast(Alice, BehaviourWatchTests.TestDay.AddHours(12), 200, TimeSpan.FromSeconds(5), recipients: 2));
        Assert.Contains(blast, d => d.NewlySuspended);
        Assert.True(await accounts.ReleaseAsync(new Identity(Scope.Account, Alice)));

        // The admin looked and released: her next normal message goes out, not back onto probation.
        var after = await SendAsync(pipeline, point, [new SentMail(BehaviourWatchTests.TestDay.AddHours(13), Alice, "198.51.100.20", Alice, [OfficeMail.Contact(1)])]);
        Assert.Equal(Verdict.Accept, Assert.Single(after).Verdict);
    }
}
