using Floodgate.Behaviour;
using Floodgate.Engine;

namespace Floodgate.Tests.Behaviour;

/// <summary>The behaviour watch on its own: history first, probation for a hijack, self-release, escalation.</summary>
public class BehaviourWatchTests
{
    private const string Alice = "alice@example.com";

    // Three weeks of Alice's normal mail learned; the fourth week's Monday is the day under test.
    internal static BehaviourWatch Seeded(BehaviourOptions? options = null, IAccountStore? accounts = null)
    {
        var watch = new BehaviourWatch(options ?? new BehaviourOptions()) { Accounts = accounts };
        foreach (var mail in OfficeMail.Normal(Alice, OfficeMail.Monday, 21, seed: 1))
        {
            watch.Learn(mail.ToSubmission());
        }

        return watch;
    }

    internal static DateTimeOffset TestDay => OfficeMail.Monday.AddDays(21);

    [Fact]
    public void NewAccount_IsOnlyLearned_UntilItHasHistory()
    {
        var watch = new BehaviourWatch(new BehaviourOptions());
        foreach (var mail in OfficeMail.Blast("new@example.com", TestDay.AddHours(3), 19, TimeSpan.FromSeconds(10), recipients: 20))
        {
            Assert.Null(watch.Decide(mail.ToSubmission()));
        }

        Assert.False(watch.Find("new@example.com")!.HasHistory(watch.Options));
    }

    [Fact]
    public void SeededAccount_FromANewNetworkToNewDomains_IsOnProbationWithinFiveMessages_WhileItsNormalMailFlows()
    {
        var watch = Seeded();
        Assert.True(watch.Find(Alice)!.HasHistory(watch.Options));

        // The morning's own mail goes out.
        foreach (var mail in OfficeMail.Normal(Alice, TestDay, 1, seed: 2).Where(m => m.At.Hour < 12))
        {
            Assert.Null(watch.Decide(mail.ToSubmission()));
        }

        var findings = OfficeMail.Blast(Alice, TestDay.AddHours(12).AddMinutes(5), 5, TimeSpan.FromSeconds(30))
            .Select(m => watch.Decide(m.ToSubmission())).ToList();
        var first = findings.FindIndex(f => f is not null);
        Assert.InRange(first, 0, 4);
        var probation = findings[first]!;
        Assert.False(probation.Suspends);
        Assert.True(probation.Started);
        Assert.Contains("203.0.113.0/24", probation.Reason, StringComparison.Ordinal);
        Assert.Contains("never written to", probation.Reason, StringComparison.Ordinal);
        Assert.Contains("from 198.51.100.0/24", probation.Reason, StringComparison.Ordinal);
        Assert.All(findings.Skip(first), f => Assert.False(f!.Suspends));
        Assert.Contains(Alice, watch.OnProbation);
    }

    [Fact]
    public void Probation_EndsByItself_WhenTheScoreFallsBackAfterTheProbationTime()
    {
        var watch = Seeded();
        var start = TestDay.AddHours(12);
        var held = OfficeMail.Blast(Alice, start, 6, TimeSpan.FromSeconds(30)).Select(m => watch.Decide(m.ToSubmission())).Count(f => f is not null);
        Assert.True(held > 0);

        var ended = new List<ProbationEnded>();
        watch.EndDue(start.AddMinutes(40), ended);
        Assert.Empty(ended);

        watch.EndDue(start.AddHours(1.5), ended);
        var end = Assert.Single(ended);
        Assert.Equal(held, end.Held);
        Assert.Equal(Alice, end.Account);
        Assert.Contains("probation ended by itself", end.Reason, StringComparison.Ordinal);
        Assert.Empty(watch.OnProbation);

        // Back to normal: her own mail is not held.
        Assert.Null(watch.Decide(new SentMail(start.AddHours(2), Alice, "198.51.100.20", Alice, [OfficeMail.Contact(3)]).ToSubmission()));
    }

    [Fact]
    public void Probation_BecomesSuspension_WhenTheBlastGoesOn()
    {
        var watch = Seeded();
        // Fed until the account is suspended: from then on the engine refuses its mail before the watch sees it.
        var findings = new List<BehaviourFinding?>();
        foreach (var mail in OfficeMail.Blast(Alice, TestDay.AddHours(3), 300, TimeSpan.FromSeconds(6), recipients: 3))
        {
            findings.Add(watch.Decide(mail.ToSubmission()));
            if (findings[^1] is { Suspends: true })
            {
                break;
            }
        }

        var probation = findings.FindIndex(f => f is not null);
        var suspension = findings.FindIndex(f => f is { Suspends: true });
        Assert.InRange(probation, 0, 4);
        Assert.True(suspension > probation, $"suspended at message {suspension}, probation at {probation}");
        Assert.StartsWith("behaviour: score", findings[suspension]!.Reason, StringComparison.Ordinal);
        Assert.Contains("on probation since", findings[suspension]!.Reason, StringComparison.Ordinal);
        Assert.Empty(watch.OnProbation);
    }

    [Fact]
    public void Probation_StillHighAfterEscalateAfter_IsSuspended()
    {
        var watch = Seeded(new BehaviourOptions(SuspendAt: 32, EscalateAfter: TimeSpan.FromHours(2)));

        // A slow drip from new networks: on probation soon, never high enough for suspend_at, but it does not stop.
        var findings = OfficeMail.Blast(Alice, TestDay.AddHours(10), 40, TimeSpan.FromMinutes(5))
            .Select(m => (m.At, Finding: watch.Decide(m.ToSubmission()))).ToList();
        var suspended = findings.First(f => f.Finding is { Suspends: true });
        var began = findings.First(f => f.Finding is not null).At;
        Assert.True(suspended.At - began >= TimeSpan.FromHours(2), $"suspended {suspended.At - began} after probation began");
    }

    [Fact]
    public void Decide_ForAKnownLoginWithinItsHabits_AllocatesNothing()
    {
        var watch = Seeded();
        var mail = Enumerable.Range(0, 48).Select(i => new SentMail(TestDay.AddHours(9).AddMinutes(10 * i), Alice, "198.51.100.20", Alice,
            [OfficeMail.Contact(i % 25)]).ToSubmission()).ToArray();
        Assert.Null(watch.Decide(mail[0]));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var acted = 0;
        for (var i = 1; i < mail.Length; i++)
        {
            acted += watch.Decide(mail[i]) is null ? 0 : 1;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, acted);
    }
}
