using System.Collections.Concurrent;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// Window counters in process memory: one entry per active identity and scope, holding one
/// <see cref="SlidingWindow"/> per rule of that scope; idle entries are reclaimed by <see cref="Sweep"/>. With a
/// <see cref="Journal"/>, every commit and reset is journaled and a commit's answer waits until its record is on disk.
/// </summary>
/// <remarks>
/// The entries' memory is kept under a budget (<see cref="MemoryBudget"/>): past it, a background pass forgets the
/// counters of the identities used least recently, those without a login first, until a tenth of the budget is free.
/// </remarks>
public sealed class MemoryCounterStore : ICounterStore, ICounterView
{
    /// <summary>What one entry costs beside its windows and key: the entry object, the dictionary's node and bucket, the key string's header.</summary>
    public const int EntryOverheadBytes = 56 + 48 + 16 + 24;

    private readonly RuleSet _rules;
    private readonly ConcurrentDictionary<string, Entry>[] _entries;
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>>[] _lookups;
    private readonly ConcurrentQueue<Identity> _evicted = new();
    private readonly System.Threading.Channels.Channel<bool> _overBudget = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
    private long _bytes;
    private long _evictedTotal;
    private int _evicting;

    public MemoryCounterStore(RuleSet rules, long memoryBudget = long.MaxValue)
    {
        _rules = rules;
        MemoryBudget = memoryBudget;
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

    /// <summary>Told when the journal cannot write (then decisions stand on the counts in memory) and when it writes again.</summary>
    public StoreHealth? Health { get; set; }

    /// <summary>Where commits and resets are made durable; null keeps counts in memory (and in snapshots) only. Set before the first decision.</summary>
    public CounterJournal? Journal { get; set; }

    /// <summary>Identities with live counters, over all scopes.</summary>
    public int TrackedIdentities => _entries.Sum(e => e.Count);

    /// <summary>The most the entries may take, in bytes (as <see cref="BytesOf"/> reckons them).</summary>
    public long MemoryBudget { get; }

    /// <summary>What the entries take now, in bytes (as <see cref="BytesOf"/> reckons them).</summary>
    public long MemoryUsed => Interlocked.Read(ref _bytes);

    /// <summary>Identities whose counters were forgotten to keep within the budget, since start.</summary>
    public long EvictedTotal => Interlocked.Read(ref _evictedTotal);

    /// <summary>Raised after each pass that had to forget identities to keep within the budget (off the decision path).</summary>
    public event Action<EvictionPass>? Evicted;

    /// <summary>What one identity's entry in <paramref name="scope"/> costs: its windows, its key and the overhead around them.</summary>
    public long BytesOf(Scope scope, string key) => EntryOverheadBytes + (2L * key.Length)
        + 24 + (_rules.RulesIn(scope) * (long)System.Runtime.CompilerServices.Unsafe.SizeOf<SlidingWindow>());

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

            // A unique-recipients charge adds the addresses its window has not counted yet (told back after the counts).
            Span<long> units = charges.Length <= 64 ? stackalloc long[charges.Length] : new long[charges.Length];
            var fits = true;
            for (var i = 0; i < charges.Length; i++)
            {
                var c = charges[i];
                var entry = EntryOf(c.Rule.Scope, e0, e1, e2, e3);
                var slot = ticks / c.Rule.SlotTicks;
                counts[i] = entry.Windows[c.Rule.ScopeIndex].CountAt(slot);
                units[i] = c.Units + (c.Recipients.IsEmpty ? 0 : entry.SetOf(c.Rule, _rules)?.NotCounted(c.Recipients.Span, slot) ?? c.Recipients.Length);
                if (counts.Length >= 2 * charges.Length)
                {
                    counts[charges.Length + i] = units[i];
                }

                fits &= counts[i] + units[i] <= c.Max;
            }

            // Each entry's share of its limits used, for the admin's ranking (an upper bound until its next charge).
            ClearUtilization(e0);
            ClearUtilization(e1);
            ClearUtilization(e2);
            ClearUtilization(e3);
            for (var i = 0; i < charges.Length; i++)
            {
                var c = charges[i];
                var entry = EntryOf(c.Rule.Scope, e0, e1, e2, e3);
                var used = counts[i] + (fits && commit ? units[i] : 0);
                entry.Utilization = Math.Max(entry.Utilization, c.Max <= 0 ? (used > 0 ? 1f : 0f) : (float)used / c.Max);
            }

            if (fits && commit)
            {
                for (var i = 0; i < charges.Length; i++)
                {
                    var c = charges[i];
                    var entry = EntryOf(c.Rule.Scope, e0, e1, e2, e3);
                    CountInto(entry, c.Rule, ticks / c.Rule.SlotTicks, c.Units, c.Recipients.Span);
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
            e3?.Exit();
            e2?.Exit();
            e1?.Exit();
            e0?.Exit();
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
                entry.Enter();
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
                    entry.Exit();
                }

                if (Remove((Scope)scope, key, entry))
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
            entry.Enter();
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
                entry.Exit();
            }

            Remove(scope, key, entry);
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
                    if (old is not null)
                    {
                        Remove(record.Scope, record.Key, old);
                    }

                    reset.Add(new Identity(record.Scope, record.Key));
                }

                continue;
            }

            if (record.Rule is not { } rule)
            {
                continue;
            }

            var entry = entries.TryGetValue(record.Key, out var known) ? known : Add(record.Scope, record.Key);
            if (record.Lsn <= entry.RestoredLsn)
            {
                continue;
            }

            var slot = record.Ticks / rule.SlotTicks;
            entry.Windows[rule.ScopeIndex].CountAt(slot);
            CountInto(entry, rule, slot, record.Units, record.Recipients);
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

        entry.Enter();
        try
        {
            foreach (var rule in _rules.Rules.Where(r => r.Scope == scope))
            {
                counts[rule.Index] = entry.Windows[rule.ScopeIndex].CountAt(now.UtcTicks / rule.SlotTicks);
            }
        }
        finally
        {
            entry.Exit();
        }

        return counts;
    }

    /// <summary>
    /// The <paramref name="count"/> identities of <paramref name="scope"/> nearest their limits at <paramref name="now"/>
    /// (the highest share of any rule's maximum used), busiest first; identities that counted nothing in their windows
    /// are left out.
    /// </summary>
    /// <remarks>
    /// One pass reads only each entry's share as of its last charge (an upper bound of its share now: windows only
    /// empty between charges) and keeps twice <paramref name="count"/> candidates; only those are counted again now.
    /// </remarks>
    public List<(string Key, double Utilization)> Busiest(Scope scope, int count, DateTimeOffset now, Func<LimitRule, string, long> maxOf)
    {
        var rules = _rules.Rules.Where(r => r.Scope == scope).ToArray();
        if (rules.Length == 0)
        {
            return [];
        }

        var idleBefore = now.UtcTicks - rules.Max(r => r.Window.Ticks + r.SlotTicks);
        var candidates = new PriorityQueue<(string Key, Entry Entry), float>((2 * count) + 1);
        foreach (var (key, entry) in _entries[(int)scope])
        {
            var bound = Volatile.Read(ref entry.LastUsedTicks) < idleBefore ? 0f : entry.Utilization;
            if (bound > 0 && (candidates.Count < 2 * count || candidates.TryPeek(out _, out var least) && bound > least))
            {
                candidates.Enqueue((key, entry), bound);
                if (candidates.Count > 2 * count)
                {
                    candidates.Dequeue();
                }
            }
        }

        var busiest = new List<(string Key, double Utilization)>(candidates.Count);
        while (candidates.TryDequeue(out var candidate, out _))
        {
            var utilization = 0.0;
            candidate.Entry.Enter();
            try
            {
                foreach (var rule in rules)
                {
                    var used = candidate.Entry.Windows[rule.ScopeIndex].CountAt(now.UtcTicks / rule.SlotTicks);
                    if (used > 0)
                    {
                        var max = maxOf(rule, candidate.Key);
                        utilization = Math.Max(utilization, max <= 0 ? 1.0 : (double)used / max);
                    }
                }
            }
            finally
            {
                candidate.Entry.Exit();
            }

            if (utilization > 0)
            {
                busiest.Add((candidate.Key, utilization));
            }
        }

        return [.. busiest.OrderByDescending(b => b.Utilization).ThenBy(b => b.Key, StringComparer.Ordinal).Take(count)];
    }

    /// <summary>True when the identity has live counters.</summary>
    public bool Tracks(Scope scope, string key) => _entries[(int)scope].ContainsKey(key);

    /// <summary>The identities of a scope with live counters.</summary>
    public IReadOnlyList<string> Keys(Scope scope) => [.. _entries[(int)scope].Keys];

    public Task<IReadOnlyList<string>> KeysAsync(Scope scope) => Task.FromResult(Keys(scope));

    public Task<long[]> CountsOfAsync(Scope scope, string key, DateTimeOffset now) => Task.FromResult(CountsOf(scope, key, now));

    /// <summary>The windows counted into since the last export, for a snapshot; marks them saved.</summary>
    public List<CounterSnapshot> ExportChanged()
    {
        var all = new List<CounterSnapshot>();
        ExportChanged(all.AddRange, int.MaxValue);
        return all;
    }

    /// <summary>
    /// The windows counted into since the last export, handed to <paramref name="save"/> about <paramref name="batch"/>
    /// rows at a time (so a snapshot of many identities never holds them all at once); marks them saved. Returns how many rows.
    /// </summary>
    public int ExportChanged(Action<List<CounterSnapshot>> save, int batch)
    {
        var rows = new List<CounterSnapshot>(Math.Min(batch, 1024));
        var exported = 0;
        for (var scope = 0; scope < 4; scope++)
        {
            foreach (var (key, entry) in _entries[scope])
            {
                entry.Enter();
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
                            if (entry.SetOf(rule, _rules) is { } set)
                            {
                                bytes = set.WriteTo(bytes);
                            }

                            rows.Add(new CounterSnapshot(rule.Scope, key, rule.Name, rule.SlotTicks, bytes, entry.Lsn));
                        }
                    }
                }
                finally
                {
                    entry.Exit();
                }

                if (rows.Count >= batch)
                {
                    exported += rows.Count;
                    save(rows);
                    rows = new List<CounterSnapshot>(Math.Min(batch, 1024));
                }
            }
        }

        if (rows.Count > 0)
        {
            exported += rows.Count;
            save(rows);
        }

        return exported;
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

            var entry = _entries[(int)row.Scope].TryGetValue(row.Key, out var known) ? known : Add(row.Scope, row.Key);
            entry.Enter();
            try
            {
                var window = row.Window.AsSpan(0, Math.Min(row.Window.Length, SlidingWindow.SerializedBytes));
                if (entry.Windows[rule.ScopeIndex].TryReadFrom(window)
                    && (rule.Unit != LimitUnit.UniqueRecipients || RestoreSet(entry, rule, row.Window.AsSpan(window.Length))))
                {
                    entry.RestoredLsn = Math.Max(entry.RestoredLsn, row.Lsn);
                    entry.Lsn = entry.RestoredLsn;
                    restored++;
                }
            }
            finally
            {
                entry.Exit();
            }
        }

        return restored;
    }

    // The addresses saved after a unique-recipients window's bytes.
    private bool RestoreSet(Entry entry, LimitRule rule, ReadOnlySpan<byte> saved)
    {
        if (saved.IsEmpty)
        {
            return true;
        }

        if (!entry.SetOf(rule, _rules, create: true)!.TryReadFrom(saved, rule.TrackedMax, out var added))
        {
            return false;
        }

        entry.ExtraBytes += added * (long)RecipientSet.BytesPerAddress;
        Interlocked.Add(ref _bytes, added * (long)RecipientSet.BytesPerAddress);
        return true;
    }

    // A journal that cannot write (a full disk) leaves the count in memory: the decision stands, enforced from memory,
    // and the store is reported degraded until the journal writes again.
    private async ValueTask<bool> WhenDurableAsync(Task durable, bool fits)
    {
        try
        {
            await durable;
            Health?.Succeeded("the counter journal");
        }
        catch (IOException e) when (Health is not null && e.InnerException is not null)
        {
            Health.Failed("the counter journal", e.InnerException);
        }

        return fits;
    }

    // Adds units to one rule's window of an entry (under its lock), and for unique recipients counts the addresses.
    private void CountInto(Entry entry, LimitRule rule, long slot, long units, ReadOnlySpan<ulong> recipients)
    {
        ref var window = ref entry.Windows[rule.ScopeIndex];
        if (!recipients.IsEmpty && entry.SetOf(rule, _rules, create: true) is { } set)
        {
            var bytes = set.Count(ref window, recipients, slot, rule.TrackedMax) * (long)RecipientSet.BytesPerAddress;
            entry.ExtraBytes += bytes;
            Interlocked.Add(ref _bytes, bytes);
        }

        if (units > 0)
        {
            window.Add(slot, units);
        }

        entry.Dirty = true;
    }

    private static void SetLsn(Entry? entry, long lsn)
    {
        if (entry is not null)
        {
            entry.Lsn = lsn;
        }
    }

    private static void ClearUtilization(Entry? entry)
    {
        if (entry is not null)
        {
            entry.Utilization = 0;
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
                entry = Add(scope, key);
            }

            entry.Enter();

            // A sweep may have retired this entry between the lookup and the lock: look again.
            if (!entry.Removed)
            {
                entry.LastUsedTicks = ticks;
                return entry;
            }

            entry.Exit();
        }
    }

    // Adds an entry (or finds the one another thread added) and wakes the evictor when the budget is passed.
    private Entry Add(Scope scope, string key)
    {
        var entries = _entries[(int)scope];
        var fresh = new Entry(_rules.RulesIn(scope));
        if (!entries.TryAdd(key, fresh))
        {
            return entries.TryGetValue(key, out var other) ? other : Add(scope, key);
        }

        if (Interlocked.Add(ref _bytes, BytesOf(scope, key)) > MemoryBudget && Interlocked.CompareExchange(ref _evicting, 1, 0) == 0)
        {
            _overBudget.Writer.TryWrite(true);
        }

        return fresh;
    }

    // Takes a retired entry out of its dictionary and out of the reckoning.
    private bool Remove(Scope scope, string key, Entry entry)
    {
        if (!_entries[(int)scope].TryRemove(new KeyValuePair<string, Entry>(key, entry)))
        {
            return false;
        }

        Interlocked.Add(ref _bytes, -(BytesOf(scope, key) + Volatile.Read(ref entry.ExtraBytes)));
        return true;
    }

    /// <summary>
    /// Keeps the entries within <see cref="MemoryBudget"/> until <paramref name="stop"/>: waits until an addition passes
    /// it, then forgets the identities used least recently (those without a login first) until a tenth is free.
    /// </summary>
    public async Task KeepWithinBudgetAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await _overBudget.Reader.ReadAsync(stop);
            try
            {
                if (MemoryUsed > MemoryBudget)
                {
                    var pass = Evict(MemoryBudget - (MemoryBudget / 10));
                    Evicted?.Invoke(pass);
                }
            }
            finally
            {
                Volatile.Write(ref _evicting, 0);
            }

            // Additions made during the pass may have passed the budget again without waking anyone.
            if (MemoryUsed > MemoryBudget && Interlocked.CompareExchange(ref _evicting, 1, 0) == 0)
            {
                _overBudget.Writer.TryWrite(true);
            }
        }
    }

    /// <summary>
    /// Forgets the counters of the identities used least recently until the entries take at most <paramref name="target"/>
    /// bytes: identities without a login (senders marked "(no login)" and client addresses) before any other.
    /// </summary>
    public EvictionPass Evict(long target)
    {
        // One rank per entry: without-login entries first, then by last use; the cut is the rank that frees enough.
        var count = _entries.Sum(e => e.Count);
        var ranks = new long[count];
        var costs = new long[count];
        var n = 0;
        for (var scope = 0; scope < 4 && n < count; scope++)
        {
            foreach (var (key, entry) in _entries[scope])
            {
                if (n == count)
                {
                    break;
                }

                ranks[n] = RankOf((Scope)scope, key, entry);
                costs[n++] = BytesOf((Scope)scope, key) + Volatile.Read(ref entry.ExtraBytes);
            }
        }

        // Entries added since the count are newer than any ranked here: the next pass sees them.
        Array.Sort(ranks, costs, 0, n);
        var excess = -target;
        for (var i = 0; i < n; i++)
        {
            excess += costs[i];
        }

        var cut = long.MinValue;
        for (var i = 0; i < n && excess > 0; i++)
        {
            excess -= costs[i];
            cut = ranks[i];
        }

        int evicted = 0, withoutLogin = 0;
        for (var scope = 0; scope < 4 && cut != long.MinValue; scope++)
        {
            foreach (var (key, entry) in _entries[scope])
            {
                entry.Enter();
                try
                {
                    if (entry.Removed || RankOf((Scope)scope, key, entry) > cut)
                    {
                        continue;
                    }

                    entry.Removed = true;
                }
                finally
                {
                    entry.Exit();
                }

                if (Remove((Scope)scope, key, entry))
                {
                    evicted++;
                    if (IsWithoutLogin((Scope)scope, key))
                    {
                        withoutLogin++;
                    }

                    _evicted.Enqueue(new Identity((Scope)scope, key));
                }
            }
        }

        Interlocked.Add(ref _evictedTotal, evicted);
        return new EvictionPass(evicted, withoutLogin, MemoryUsed, TrackedIdentities);
    }

    /// <summary>Identities forgotten by the budget since the last call, whose saved windows should go too.</summary>
    public List<Identity> TakeEvicted()
    {
        var taken = new List<Identity>();
        while (taken.Count < 100_000 && _evicted.TryDequeue(out var identity))
        {
            taken.Add(identity);
        }

        return taken;
    }

    // Mail without a login: senders the engine marks so, and client addresses (counted for every client).
    private static bool IsWithoutLogin(Scope scope, string key) =>
        scope == Scope.ClientIp || key.EndsWith(IdentityKeys.NoLoginMark, StringComparison.Ordinal);

    private static long RankOf(Scope scope, string key, Entry entry) =>
        (IsWithoutLogin(scope, key) ? 0 : 1L << 62) | (Volatile.Read(ref entry.LastUsedTicks) & ((1L << 62) - 1));

    // Locked with the monitor in its own header, so an entry costs no lock object.
    private sealed class Entry(int rules)
    {
        public readonly SlidingWindow[] Windows = new SlidingWindow[rules];

        // The addresses of this entry's unique-recipients windows (by the rule's place in its scope), made on first use.
        public RecipientSet?[]? Sets;

        // What the sets take beside BytesOf.
        public long ExtraBytes;
        public long LastUsedTicks;
        public float Utilization;
        public bool Removed;
        public bool Dirty;

        // The LSN of the last journaled change, and of the snapshot this entry was restored from (replay skips up to it).
        public long Lsn;
        public long RestoredLsn;

        public RecipientSet? SetOf(LimitRule rule, RuleSet rules, bool create = false)
        {
            if (rule.Unit != LimitUnit.UniqueRecipients || (Sets is null && !create))
            {
                return null;
            }

            Sets ??= new RecipientSet?[rules.RulesIn(rule.Scope)];
            return Sets[rule.ScopeIndex] ??= create ? new RecipientSet() : null;
        }

        public void Enter() => Monitor.Enter(this);

        public void Exit() => Monitor.Exit(this);

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
