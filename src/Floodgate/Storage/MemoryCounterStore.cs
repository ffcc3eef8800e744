using System.Collections.Concurrent;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// Window counters in process memory: one entry per active identity and scope, holding one
/// <see cref="SlidingWindow"/> per rule of that scope; idle entries are reclaimed by <see cref="Sweep"/>. With a
/// <see cref="Journal"/>, every commit and reset is journaled and a commit's answer waits until its record is on disk.
/// </summary>
public sealed class MemoryCounterStore : ICounterStore, ICounterView
{
    private readonly RuleSet _rules;
    private readonly ConcurrentDictionary<string, Entry>[] _entries;
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>>[] _lookups;

    public MemoryCounterStore(RuleSet rules)
    {
        _rules = rules;
        _entries = new ConcurrentDictionary<string, Entry>[4];
        _lookups = new ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>>[4];
        for (var i = 0; i < 4; i++)
        {
            _entries[i] = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
            _lookups[i] = _entries[i].GetAlternateLookup<ReadOnlySpan<char>>();
        }
    }

    /// <summary>The rules whose windows this store keeps.</summary>
    public RuleSet Rules => _rules;

    /// <summary>Where commits and resets are made durable; null keeps counts in memory (and in snapshots) only. Set before the first decision.</summary>
    public CounterJournal? Journal { get; set; }

    /// <summary>Identities with live counters, over all scopes.</summary>
    public int TrackedIdentities => _entries.Sum(e => e.Count);

    /// <summary>Checks and counts; with a journal, a commit completes once its record is on disk.</summary>
    public ValueTask<bool> ChargeAsync(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit)
    {
        var fits = Charge(charges.Span, counts.Span, now, commit, out var durable);
        if (durable is null)
        {
            return ValueTask.FromResult(fits);
        }

        Journal!.FlushIfIdle();
        return durable.IsCompletedSuccessfully ? ValueTask.FromResult(fits) : WhenDurableAsync(durable, fits);
    }

    /// <summary>The synchronous check-and-count behind <see cref="ChargeAsync"/> (a commit is journaled, not waited for).</summary>
    public bool Charge(ReadOnlySpan<CounterCharge> charges, Span<long> counts, DateTimeOffset now, bool commit)
    {
        var fits = Charge(charges, counts, now, commit, out var durable);
        if (durable is not null)
        {
            Journal!.FlushSoon();
        }

        return fits;
    }

    private bool Charge(ReadOnlySpan<CounterCharge> charges, Span<long> counts, DateTimeOffset now, bool commit, out Task? durable)
    {
        durable = null;
        var ticks = now.UtcTicks;

        // One entry per scope at most; taking their locks in scope order keeps two decisions from deadlocking.
        Span<int> firstChargeOfScope = [-1, -1, -1, -1];
        for (var i = 0; i < charges.Length; i++)
        {
            var scope = (int)charges[i].Rule.Scope;
            if (firstChargeOfScope[scope] < 0)
            {
                firstChargeOfScope[scope] = i;
            }
        }

        Entry? e0 = null, e1 = null, e2 = null, e3 = null;
        try
        {
            e0 = Acquire(Scope.Account, charges, firstChargeOfScope[0], ticks);
            e1 = Acquire(Scope.Sender, charges, firstChargeOfScope[1], ticks);
            e2 = Acquire(Scope.SenderDomain, charges, firstChargeOfScope[2], ticks);
            e3 = Acquire(Scope.ClientIp, charges, firstChargeOfScope[3], ticks);

            var fits = true;
            for (var i = 0; i < charges.Length; i++)
            {
                var c = charges[i];
                var entry = EntryOf(c.Rule.Scope, e0, e1, e2, e3);
                counts[i] = entry.Windows[c.Rule.ScopeIndex].CountAt(ticks / c.Rule.SlotTicks);
                fits &= counts[i] + c.Units <= c.Max;
            }

            if (fits && commit)
            {
                for (var i = 0; i < charges.Length; i++)
                {
                    var c = charges[i];
                    var entry = EntryOf(c.Rule.Scope, e0, e1, e2, e3);
                    entry.Windows[c.Rule.ScopeIndex].Add(ticks / c.Rule.SlotTicks, c.Units);
                    entry.Dirty = true;
                }

                // Under the entries' locks, so each identity's records are in the order its counts changed.
                if (Journal is { } journal && charges.Length > 0)
                {
                    durable = journal.AppendCharge(charges, ticks, out var lsn);
                    SetLsn(e0, lsn);
                    SetLsn(e1, lsn);
                    SetLsn(e2, lsn);
                    SetLsn(e3, lsn);
                }
            }

            return fits;
        }
        finally
        {
            e3?.Lock.Exit();
            e2?.Lock.Exit();
            e1?.Lock.Exit();
            e0?.Lock.Exit();
        }
    }

    /// <summary>Removes entries whose every window has emptied by <paramref name="now"/>; returns how many.</summary>
    public int Sweep(DateTimeOffset now)
    {
        var ticks = now.UtcTicks;
        var removed = 0;
        for (var scope = 0; scope < 4; scope++)
        {
            foreach (var (key, entry) in _entries[scope])
            {
                entry.Lock.Enter();
                try
                {
                    if (!entry.IsIdleAt(ticks, _rules, (Scope)scope))
                    {
                        continue;
                    }

                    entry.Removed = true;
                }
                finally
                {
                    entry.Lock.Exit();
                }

                if (_entries[scope].TryRemove(new KeyValuePair<string, Entry>(key, entry)))
                {
                    removed++;
                }
            }
        }

        return removed;
    }

    /// <summary>
    /// Forgets an identity's counters (a released account starts afresh); with a journal, returns once the reset is on
    /// disk, so a replay after a crash does not bring the counts back.
    /// </summary>
    public bool Reset(Scope scope, string key)
    {
        Task? durable = null;
        var removed = false;
        if (_entries[(int)scope].TryGetValue(key, out var entry))
        {
            // The reset record goes in under the entry's lock, after every commit to it and before any to its successor.
            entry.Lock.Enter();
            try
            {
                if (!entry.Removed)
                {
                    durable = Journal?.AppendReset(scope, key, 0, out _);
                    entry.Removed = true;
                    removed = true;
                }
            }
            finally
            {
                entry.Lock.Exit();
            }

            _entries[(int)scope].TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }
        else
        {
            // Nothing in memory, but a journal written before a sweep may still hold counts of this identity.
            durable = Journal?.AppendReset(scope, key, 0, out _);
        }

        try
        {
            Journal?.FlushIfIdle();
            durable?.GetAwaiter().GetResult();
        }
        catch (IOException)
        {
            // The journal logs its failure; the reset stands in memory and in the next snapshot.
        }

        return removed;
    }

    /// <summary>
    /// Applies the journal read at start (after <see cref="Import"/>): each change newer than what the snapshot holds
    /// for its identity. Returns how many units were counted again and the identities reset, whose saved windows are stale.
    /// </summary>
    public (int Replayed, List<Identity> Reset) Replay(IEnumerable<JournalRecord> records)
    {
        var replayed = 0;
        var reset = new List<Identity>();
        foreach (var record in records)
        {
            var entries = _entries[(int)record.Scope];
            if (record.IsReset)
            {
                if (!entries.TryGetValue(record.Key, out var old) || record.Lsn > old.RestoredLsn)
                {
                    entries.TryRemove(record.Key, out _);
                    reset.Add(new Identity(record.Scope, record.Key));
                }

                continue;
            }

            if (record.Rule is not { } rule)
            {
                continue;
            }

            var entry = entries.GetOrAdd(record.Key, static (_, n) => new Entry(n), _rules.RulesIn(record.Scope));
            if (record.Lsn <= entry.RestoredLsn)
            {
                continue;
            }

            entry.Windows[rule.ScopeIndex].Add(record.Ticks / rule.SlotTicks, record.Units);
            entry.Lsn = Math.Max(entry.Lsn, record.Lsn);
            entry.LastUsedTicks = record.Ticks;
            entry.Dirty = true;
            replayed++;
        }

        return (replayed, reset);
    }

    /// <summary>Each rule's count for one identity at <paramref name="now"/> (-1 for rules of other scopes).</summary>
    public long[] CountsOf(Scope scope, string key, DateTimeOffset now)
    {
        var counts = new long[_rules.Rules.Count];
        Array.Fill(counts, -1);
        if (!_entries[(int)scope].TryGetValue(key, out var entry))
        {
            foreach (var rule in _rules.Rules.Where(r => r.Scope == scope))
            {
                counts[rule.Index] = 0;
            }

            return counts;
        }

        entry.Lock.Enter();
        try
        {
            foreach (var rule in _rules.Rules.Where(r => r.Scope == scope))
            {
                counts[rule.Index] = entry.Windows[rule.ScopeIndex].CountAt(now.UtcTicks / rule.SlotTicks);
            }
        }
        finally
        {
            entry.Lock.Exit();
        }

        return counts;
    }

    /// <summary>The identities of a scope with live counters.</summary>
    public IReadOnlyList<string> Keys(Scope scope) => [.. _entries[(int)scope].Keys];

    public Task<IReadOnlyList<string>> KeysAsync(Scope scope) => Task.FromResult(Keys(scope));

    public Task<long[]> CountsOfAsync(Scope scope, string key, DateTimeOffset now) => Task.FromResult(CountsOf(scope, key, now));

    /// <summary>The windows counted into since the last export, for a snapshot; marks them saved.</summary>
    public List<CounterSnapshot> ExportChanged()
    {
        var rows = new List<CounterSnapshot>();
        for (var scope = 0; scope < 4; scope++)
        {
            foreach (var (key, entry) in _entries[scope])
            {
                entry.Lock.Enter();
                try
                {
                    if (!entry.Dirty || entry.Removed)
                    {
                        continue;
                    }

                    entry.Dirty = false;
                    foreach (var rule in _rules.Rules)
                    {
                        if ((int)rule.Scope == scope)
                        {
                            var bytes = new byte[SlidingWindow.SerializedBytes];
                            entry.Windows[rule.ScopeIndex].WriteTo(bytes);
                            rows.Add(new CounterSnapshot(rule.Scope, key, rule.Name, rule.SlotTicks, bytes, entry.Lsn));
                        }
                    }
                }
                finally
                {
                    entry.Lock.Exit();
                }
            }
        }

        return rows;
    }

    /// <summary>
    /// Restores saved windows (at start, before any decision); a row whose rule is gone or whose window length changed
    /// is skipped. Returns how many windows were restored.
    /// </summary>
    public int Import(IEnumerable<CounterSnapshot> rows)
    {
        var restored = 0;
        foreach (var row in rows)
        {
            var rule = _rules.Rules.FirstOrDefault(r => r.Name == row.Rule && r.Scope == row.Scope && r.SlotTicks == row.SlotTicks);
            if (rule is null)
            {
                continue;
            }

            var entry = _entries[(int)row.Scope].GetOrAdd(row.Key, static (_, n) => new Entry(n), _rules.RulesIn(row.Scope));
            entry.Lock.Enter();
            try
            {
                if (entry.Windows[rule.ScopeIndex].TryReadFrom(row.Window))
                {
                    entry.RestoredLsn = Math.Max(entry.RestoredLsn, row.Lsn);
                    entry.Lsn = entry.RestoredLsn;
                    restored++;
                }
            }
            finally
            {
                entry.Lock.Exit();
            }
        }

        return restored;
    }

    private static async ValueTask<bool> WhenDurableAsync(Task durable, bool fits)
    {
        await durable;
        return fits;
    }

    private static void SetLsn(Entry? entry, long lsn)
    {
        if (entry is not null)
        {
            entry.Lsn = lsn;
        }
    }

    private static Entry EntryOf(Scope scope, Entry? e0, Entry? e1, Entry? e2, Entry? e3) => scope switch
    {
        Scope.Account => e0!,
        Scope.Sender => e1!,
        Scope.SenderDomain => e2!,
        _ => e3!,
    };

    private Entry? Acquire(Scope scope, ReadOnlySpan<CounterCharge> charges, int chargeIndex, long ticks)
    {
        if (chargeIndex < 0)
        {
            return null;
        }

        var key = charges[chargeIndex].Key;
        var lookup = _lookups[(int)scope];
        while (true)
        {
            if (!lookup.TryGetValue(key.AsSpan(), out var entry))
            {
                entry = _entries[(int)scope].GetOrAdd(key, static (_, n) => new Entry(n), _rules.RulesIn(scope));
            }

            entry.Lock.Enter();

            // A sweep may have retired this entry between the lookup and the lock: look again.
            if (!entry.Removed)
            {
                entry.LastUsedTicks = ticks;
                return entry;
            }

            entry.Lock.Exit();
        }
    }

    private sealed class Entry(int rules)
    {
        public readonly Lock Lock = new();
        public readonly SlidingWindow[] Windows = new SlidingWindow[rules];
        public long LastUsedTicks;
        public bool Removed;
        public bool Dirty;

        // The LSN of the last journaled change, and of the snapshot this entry was restored from (replay skips up to it).
        public long Lsn;
        public long RestoredLsn;

        public bool IsIdleAt(long ticks, RuleSet rules, Scope scope)
        {
            foreach (var rule in rules.Rules)
            {
                if (rule.Scope == scope && !Windows[rule.ScopeIndex].IsIdleAt(ticks / rule.SlotTicks))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
