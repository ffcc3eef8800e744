using Floodgate.Engine;
using Floodgate.Storage;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Storage;

/// <summary>
/// The counter journal: what a store committed comes back from a snapshot plus the journal, each unit once; a crash's
/// torn or garbage tail is skipped with a log line; resets are replayed in their place.
/// </summary>
public sealed class CounterJournalTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly string _data = Directory.CreateTempSubdirectory("floodgate-journal-").FullName;
    private readonly LogCollector _logs = new();
    private readonly RuleSet _rules = new([
        new LimitRule("burst", Scope.Account, LimitUnit.Messages, 1000, TimeSpan.FromMinutes(1), LimitAction.Defer),
        new LimitRule("hourly", Scope.Account, LimitUnit.Recipients, 5000, TimeSpan.FromHours(1), LimitAction.Suspend),
        new LimitRule("sender", Scope.Sender, LimitUnit.Messages, 1000, TimeSpan.FromHours(1), LimitAction.Hold)]);

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task Replay_RestoresEveryCommittedCount_AndNothingOnlyChecked()
    {
        var (store, journal, engine) = Open(0);
        for (var i = 0; i < 50; i++)
        {
            await engine.DecideAsync(Message($"user{i % 5}@example.com", recipients: 1 + (i % 3), T0.AddSeconds(i)), DecisionStage.Count);
        }

        // Checks and refusals count nothing, so the journal has nothing of them.
        await engine.DecideAsync(Message("user0@example.com", 1, T0.AddSeconds(60)), DecisionStage.Check);
        await engine.DecideAsync(Message("big@example.com", 6000, T0.AddSeconds(60)), DecisionStage.Count);

        // Every commit that returned is on disk now: read it while the writer is still open, as after a kill -9.
        var replayed = Restore([]);
        for (var u = 0; u < 5; u++)
        {
            Assert.Equal(store.CountsOf(Scope.Account, $"user{u}@example.com", T0.AddSeconds(60)), replayed.CountsOf(Scope.Account, $"user{u}@example.com", T0.AddSeconds(60)));
            Assert.Equal(store.CountsOf(Scope.Sender, $"user{u}@example.com", T0.AddSeconds(60)), replayed.CountsOf(Scope.Sender, $"user{u}@example.com", T0.AddSeconds(60)));
        }

        Assert.Equal(10, replayed.CountsOf(Scope.Account, "user0@example.com", T0.AddSeconds(60))[0]);
        Assert.Equal(0, replayed.CountsOf(Scope.Account, "big@example.com", T0.AddSeconds(60))[0]);
        journal.Dispose();
    }

    [Fact]
    public async Task Replay_AfterASnapshot_CountsEachUnitOnce()
    {
        var (store, journal, engine) = Open(0);
        await SendAsync(engine, "alice@example.com", 5);

        // The snapshotter's order: rotate, export, delete what the snapshot covers. A commit between the rotation and
        // the export is in both the snapshot and the new segment; the LSN saved with the snapshot keeps it counted once.
        var cut = await journal.RotateAsync();
        await SendAsync(engine, "alice@example.com", 2);
        var snapshot = store.ExportChanged();
        Assert.Equal(1, journal.DeleteThrough(cut));
        await SendAsync(engine, "alice@example.com", 3);

        var restored = Restore(snapshot);
        Assert.Equal(10, restored.CountsOf(Scope.Account, "alice@example.com", T0.AddMinutes(1))[1]);
        Assert.Single(journal.Segments);
        journal.Dispose();
    }

    [Fact]
    public async Task Replay_ResetRecord_KeepsAReleaseReleased()
    {
        var (store, journal, engine) = Open(0);
        await SendAsync(engine, "mallory@example.com", 7);
        var snapshot = store.ExportChanged();
        Assert.True(store.Reset(Scope.Account, "mallory@example.com"));
        await SendAsync(engine, "mallory@example.com", 2);

        // The snapshot from before the release holds 7: the reset in the journal drops them, the 2 after it count.
        var restored = Restore(snapshot);
        Assert.Equal(2, restored.CountsOf(Scope.Account, "mallory@example.com", T0.AddMinutes(1))[1]);

        // The sender scope was not reset: all 9 messages are still counted there.
        Assert.Equal(9, restored.CountsOf(Scope.Sender, "mallory@example.com", T0.AddMinutes(1))[2]);
        journal.Dispose();
    }

    [Fact]
    public async Task Read_TornTail_IsSkippedAndLogged()
    {
        var (_, journal, engine) = Open(0);
        await SendAsync(engine, "alice@example.com", 4);
        journal.Dispose();
        var segment = CounterJournal.SegmentsIn(_data).Single();

        // A crash in the middle of the last write: its record is cut short.
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - 3);
        }

        var restored = Restore([]);
        Assert.Equal(3, restored.CountsOf(Scope.Account, "alice@example.com", T0.AddMinutes(1))[1]);
        Assert.Contains(_logs.Lines, l => l.Contains("a record cut short", StringComparison.Ordinal) && l.Contains("are ignored", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Segment_WhileOpen_IsAllocatedAhead_AndAfterACrashItsZeroTailIsNoProblem()
    {
        var (_, journal, engine) = Open(0);
        await SendAsync(engine, "alice@example.com", 4);
        var segment = CounterJournal.SegmentsIn(_data).Single();

        // While it runs, the segment is allocated ahead (appends do not grow it); what a crash leaves is this file.
        var crashed = File.ReadAllBytes(segment);
        Assert.True(crashed.Length >= 1 << 20, $"the open segment is {crashed.Length} bytes");
        journal.Dispose();

        // A clean close truncates it to its records.
        var closed = File.ReadAllBytes(segment);
        Assert.True(closed.Length < 1024, $"the closed segment is {closed.Length} bytes");
        Assert.Equal(closed, crashed.AsSpan(0, closed.Length).ToArray());
        Assert.True(crashed.AsSpan(closed.Length).IndexOfAnyExcept((byte)0) < 0);

        // The crashed file reads as the same records, without a complaint.
        File.WriteAllBytes(segment, crashed);
        var restored = Restore([]);
        Assert.Equal(4, restored.CountsOf(Scope.Account, "alice@example.com", T0.AddMinutes(1))[1]);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("counter journal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Read_GarbageTail_AndGarbageSegments_AreSkippedNeverThrown()
    {
        var (_, journal, engine) = Open(0);
        await SendAsync(engine, "alice@example.com", 4);
        journal.Dispose();
        var segment = CounterJournal.SegmentsIn(_data).Single();
        var random = new Random(7);
        var garbage = new byte[300];
        random.NextBytes(garbage);
        using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write(garbage);
        }

        // A file that is not a journal at all, and a journal whose first record has a wrong checksum (zeros alone after
        // the magic would be the allocated tail of a segment that never got its first record: no problem).
        var flipped = File.ReadAllBytes(segment);
        File.WriteAllBytes(Path.Combine(_data, CounterJournal.FolderName, "counters-9999999999999999998.journal"), garbage);
        File.WriteAllBytes(Path.Combine(_data, CounterJournal.FolderName, "counters-9999999999999999999.journal"), [.. flipped.Take(4), 20, 0, 0, 0, 1, 2, 3, 4, .. new byte[20]]);

        var restored = Restore([]);
        Assert.Equal(4, restored.CountsOf(Scope.Account, "alice@example.com", T0.AddMinutes(1))[1]);
        Assert.Equal(3, _logs.Lines.Count(l => l.Contains("counter journal", StringComparison.Ordinal) && l.Contains("ignored", StringComparison.Ordinal)));
    }

    [Fact]
    public void ReadSegment_EveryPrefixAndEveryFlippedByte_NeverThrows()
    {
        var (store, journal, _) = Open(0);
        for (var i = 0; i < 6; i++)
        {
            store.Charge([new CounterCharge(_rules.Rules[0], $"u{i}", 1, 1000), new CounterCharge(_rules.Rules[2], $"s{i}", 1, 1000)], new long[2], T0, commit: true);
        }

        store.Reset(Scope.Account, "u1");
        journal.Dispose();
        var bytes = File.ReadAllBytes(CounterJournal.SegmentsIn(_data).Single());
        var whole = new List<JournalRecord>();
        Assert.Equal(bytes.Length, CounterJournal.ReadSegment(bytes, _rules, whole, out var problem));
        Assert.Null(problem);
        Assert.Equal(13, whole.Count);
        Assert.Equal(whole.Select(r => r.Lsn).Order(), whole.Select(r => r.Lsn));

        for (var length = 0; length < bytes.Length; length++)
        {
            var prefix = new List<JournalRecord>();
            CounterJournal.ReadSegment(bytes.AsSpan(0, length), _rules, prefix, out _);
            Assert.True(prefix.Count < whole.Count);
            Assert.Equal(whole.Take(prefix.Count), prefix);
        }

        for (var at = 0; at < bytes.Length; at++)
        {
            var copy = (byte[])bytes.Clone();
            copy[at] ^= 0x5A;
            var read = new List<JournalRecord>();
            CounterJournal.ReadSegment(copy, _rules, read, out _);
            Assert.Equal(whole.Take(read.Count), read);
        }
    }

    private static Submission Message(string account, int recipients, DateTimeOffset at) => new(account, account, recipients, 100, "192.0.2.1", at);

    private static async Task SendAsync(DecisionEngine engine, string account, int messages)
    {
        for (var i = 0; i < messages; i++)
        {
            var decision = await engine.DecideAsync(Message(account, 1, T0.AddSeconds(i)), DecisionStage.Count);
            Assert.Equal(Verdict.Accept, decision.Verdict);
        }
    }

    private (MemoryCounterStore Store, CounterJournal Journal, DecisionEngine Engine) Open(long lastLsn)
    {
        var store = new MemoryCounterStore(_rules);
        var journal = CounterJournal.Open(_data, _rules, lastLsn, _logs.CreateLogger("journal"));
        store.Journal = journal;
        return (store, journal, new DecisionEngine(_rules, store, new MemoryAccountStore()));
    }

    private MemoryCounterStore Restore(List<CounterSnapshot> snapshot)
    {
        var store = new MemoryCounterStore(_rules);
        store.Import(snapshot);
        store.Replay(CounterJournal.Read(_data, _rules, _logs.CreateLogger("journal")));
        return store;
    }
}
