using Floodgate.Engine;
using Floodgate.Storage;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Storage;

/// <summary>
/// A unique-recipients window survives a kill -9 and a restart with the addresses it counted: after the journal (and a
/// snapshot) are read back, writing to the same people again counts nothing, and new people count as before.
/// </summary>
public sealed class UniqueRecipientsDurabilityTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly string _data = Directory.CreateTempSubdirectory("floodgate-unique-").FullName;
    private readonly LogCollector _logs = new();
    private readonly RuleSet _rules = new([
        new LimitRule("messages", Scope.Account, LimitUnit.Messages, 1000, TimeSpan.FromHours(1), LimitAction.Defer),
        new LimitRule("people", Scope.Account, LimitUnit.UniqueRecipients, 40, TimeSpan.FromHours(1), LimitAction.Reject)]);

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AfterACrash_TheSamePeopleCountNothing_NewPeopleCountOnce(bool snapshotBetween)
    {
        var store = new MemoryCounterStore(_rules);
        var journal = CounterJournal.Open(_data, _rules, 0, _logs.CreateLogger("journal"));
        store.Journal = journal;
        var engine = new DecisionEngine(_rules, store, new MemoryAccountStore());
        var team = Enumerable.Range(0, 20).Select(i => $"Colleague{i}@Example.com").ToArray();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(Verdict.Accept, (await engine.DecideAsync(Message(team[(i * 2)..((i * 2) + 2)], T0.AddMinutes(i)), DecisionStage.Count)).Verdict);
        }

        List<CounterSnapshot> snapshot = [];
        if (snapshotBetween)
        {
            var cut = await journal.RotateAsync();
            snapshot = store.ExportChanged();
            journal.DeleteThrough(cut);
        }

        // Five more to people written to already (spelt differently), five to new ones; then the process dies.
        await engine.DecideAsync(Message([.. team[..5].Select(t => t.ToUpperInvariant())], T0.AddMinutes(11)), DecisionStage.Count);
        await engine.DecideAsync(Message(["new0@example.com", "new1@example.com", "new2@example.com", "new3@example.com", "new4@example.com"], T0.AddMinutes(12)), DecisionStage.Count);
        var before = store.CountsOf(Scope.Account, "alice@example.com", T0.AddMinutes(13));
        Assert.Equal(25, before[1]);

        var restored = new MemoryCounterStore(_rules);
        restored.Import(snapshot);
        restored.Replay(CounterJournal.Read(_data, _rules, _logs.CreateLogger("journal")));
        journal.Dispose();
        Assert.Equal(before, restored.CountsOf(Scope.Account, "alice@example.com", T0.AddMinutes(13)));

        var again = new DecisionEngine(_rules, restored, new MemoryAccountStore());
        var counts = new long[2];
        Assert.Equal(Verdict.Accept, (await again.DecideAsync(Message(team, T0.AddMinutes(14)), DecisionStage.Count, counts)).Verdict);
        Assert.Equal(25, counts[1]);
        var fresh = Enumerable.Range(0, 16).Select(i => $"stranger{i}@far.example").ToList();
        var refused = await again.DecideAsync(Message(fresh, T0.AddMinutes(15)), DecisionStage.Count, counts);
        Assert.Equal(Verdict.Reject, refused.Verdict);
        Assert.Equal((25, 16), (refused.Count, refused.Units));
        Assert.Equal(Verdict.Accept, (await again.DecideAsync(Message(fresh[..15], T0.AddMinutes(16)), DecisionStage.Count, counts)).Verdict);
        Assert.Equal(40, counts[1]);
    }

    [Fact]
    public async Task Memory_IsBoundedByTheLimit_AndReckonedInTheBudget()
    {
        var store = new MemoryCounterStore(_rules);
        var engine = new DecisionEngine(_rules, store, new MemoryAccountStore());
        var empty = store.MemoryUsed;

        // A spammer's thousand new addresses: the window fills at 40, the rest are refused and remembered nowhere.
        for (var i = 0; i < 1000; i++)
        {
            await engine.DecideAsync(Message([$"victim{i}@far.example"], T0.AddSeconds(i)), DecisionStage.Count);
        }

        var grown = store.MemoryUsed - empty;
        Assert.InRange(grown, 40 * RecipientSet.BytesPerAddress, store.BytesOf(Scope.Account, "alice@example.com") + (40 * RecipientSet.BytesPerAddress));
        Assert.Equal(1, store.Sweep(T0.AddHours(3)));
        Assert.Equal(empty, store.MemoryUsed);
    }

    private static Submission Message(IReadOnlyList<string> to, DateTimeOffset at) =>
        new("alice@example.com", "alice@example.com", to.Count, 100, "192.0.2.1", at) { Recipients = to };
}
