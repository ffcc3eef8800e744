using Floodgate.Admin;
using Floodgate.Engine;

namespace Floodgate.Tests.Dashboard;

public class TrafficHistoryTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 20, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TrafficHistory_CountsMessagesAndRecipientsPerMinute_OnlyWhereMessagesAreCounted()
    {
        var history = new TrafficHistory();
        Record(history, Start.AddSeconds(5), 3, Verdict.Accept);
        Record(history, Start.AddSeconds(59), 2, Verdict.Accept);
        Record(history, Start.AddSeconds(30), 50, Verdict.Defer);
        Record(history, Start.AddMinutes(2), 7, Verdict.Accept);
        Record(history, Start.AddMinutes(2), 9, Verdict.Accept, DecisionStage.Check);

        var minutes = history.Last(3, Start.AddMinutes(2).AddSeconds(10));
        Assert.Equal([Start, Start.AddMinutes(1), Start.AddMinutes(2)], minutes.Select(m => m.Start));
        Assert.Equal(new MinuteTraffic(Start, 2, 5, 1), minutes[0]);
        Assert.Equal(new MinuteTraffic(Start.AddMinutes(1), 0, 0, 0), minutes[1]);
        Assert.Equal(new MinuteTraffic(Start.AddMinutes(2), 1, 7, 0), minutes[2]);
    }

    [Fact]
    public void TrafficHistory_ASlotReusedSixHoursLater_StartsFromZero()
    {
        var history = new TrafficHistory();
        Record(history, Start, 4, Verdict.Accept);
        var later = Start.AddMinutes(TrafficHistory.Minutes);
        Record(history, later, 1, Verdict.Accept);

        Assert.Equal(new MinuteTraffic(later, 1, 1, 0), history.Last(1, later)[0]);
        Assert.Equal(0, history.Last(TrafficHistory.Minutes, later)[0].Messages);
    }

    [Fact]
    public async Task TrafficHistory_ConcurrentRecordsAcrossAMinuteTurn_AreAllCounted()
    {
        var history = new TrafficHistory();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                Record(history, Start.AddMinutes(i % 2).AddSeconds(t), 2, Verdict.Accept);
            }
        })));

        var minutes = history.Last(2, Start.AddMinutes(1));
        Assert.Equal(40_000, minutes[0].Messages);
        Assert.Equal(40_000, minutes[1].Messages);
        Assert.Equal(80_000, minutes[1].Recipients);
    }

    [Fact]
    public void TrafficHistory_KeepsTheLatestDecisionsOfAnAccount_NewestFirst()
    {
        var history = new TrafficHistory();
        for (var i = 0; i < TrafficHistory.RecentPerAccount + 5; i++)
        {
            Record(history, Start.AddSeconds(i), i, Verdict.Accept);
        }

        Record(history, Start, 1, Verdict.Accept, account: "bob@example.com");
        var recent = history.RecentOf("ALICE@example.com");
        Assert.Equal(TrafficHistory.RecentPerAccount, recent.Count);
        Assert.Equal(TrafficHistory.RecentPerAccount + 4, recent[0].Submission.RecipientCount);
        Assert.Equal(5, recent[^1].Submission.RecipientCount);
        Assert.Single(history.RecentOf("bob@example.com"));
    }

    [Fact]
    public void TrafficHistory_RecordingAKnownAccount_AllocatesNothing()
    {
        var history = new TrafficHistory();
        var submission = new Submission("alice@example.com", "alice@example.com", 3, 0, "192.0.2.1", Start);
        var decision = new Decision(Verdict.Accept, DecisionCause.WithinLimits);
        history.Record("policy", submission, decision, DecisionStage.Count, TimeSpan.Zero);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            history.Record("policy", submission with { Time = Start.AddSeconds(i) }, decision, DecisionStage.Count, TimeSpan.Zero);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_001, history.Last(TrafficHistory.Minutes, Start.AddSeconds(9_999)).Sum(m => m.Messages));
    }

    private static void Record(TrafficHistory history, DateTimeOffset at, int recipients, Verdict verdict, DecisionStage stage = DecisionStage.Count,
        string account = "alice@example.com") =>
        history.Record("policy", new Submission(account, account, recipients, 0, "192.0.2.1", at),
            new Decision(verdict, verdict == Verdict.Accept ? DecisionCause.WithinLimits : DecisionCause.LimitExceeded), stage, TimeSpan.Zero);
}
