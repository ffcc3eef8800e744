using System.Collections.Concurrent;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// Window counters in process memory: one entry per active identity and scope, holding one
/// <see cref="SlidingWindow"/> per rule of that scope; idle entries are reclaimed by <see cref="Sweep"/>.
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

    /// <summary>Identities with live counters, over all scopes.</summary>
    public int TrackedIdentities => _entries.Sum(e => e.Count);

    public ValueTask<bool> ChargeAsync(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit) =>
        ValueTask.FromResult(Charge(charges.Span, counts.Span, now, commit));

    /// <summary>The synchronous check-and-count behind <see cref="ChargeAsync"/>.</summary>
    public bool Charge(ReadOnlySpan<CounterCharge> charges, Span<long> counts, DateTimeOffset now, bool commit)
    {
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

    /// <summary>Forgets an identity's counters (a released account starts afresh).</summary>
    public bool Reset(Scope scope, string key)
    {
        if (!_entries[(int)scope].TryRemove(key, out var entry))
        {
            return false;
        }

        entry.Lock.Enter();
        entry.Removed = true;
        entry.Lock.Exit();
        return true;
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
                            rows.Add(new CounterSnapshot(rule.Scope, key, rule.Name, rule.SlotTicks, bytes));
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
