using System.Threading.Tasks.Sources;
using Floodgate.Configuration;
using Floodgate.Engine;
using StackExchange.Redis;

namespace Floodgate.Storage;

/// <summary>
/// Window counters in Redis, one key per identity and rule, each the same 32-slot ring as <see cref="SlidingWindow"/>
/// (the same bytes as its snapshot); a whole check-and-count is one Lua script, so every node enforces each limit exactly.
/// While Redis is unavailable, decides with this node's own counters (fail open) or throws <see cref="StoreUnavailableException"/>.
/// </summary>
public sealed class RedisCounterStore : ICounterStore, ICounterView, ICounterReset
{
    // The ring as SlidingWindow.WriteTo lays it out: newest slot (int64), total (int64), 32 slot counts (uint32), little-endian.
    // Same semantics as MemoryCounterStore.Charge, for each decision of a batch in turn: advance each ring to the current
    // slot, check every charge, and count all of them only when every one fits; a clock behind the ring's newest slot counts
    // into that newest slot. ARGV: the number of decisions, then per decision its commit flag (1 or 0), its number of
    // charges and per charge its slot, units, max, expiry in ms and 0, or for unique recipients 1, the most addresses to
    // remember, their number and the address hashes; KEYS: every charge's ring in the same order, a unique-recipients
    // ring followed by its hash of address -> slot last counted (RecipientSet's semantics: an address counted inside the
    // window moves its unit to the current slot instead of counting again). Returns per decision 1 or 0 (all fit)
    // followed by each charge's count before it, then each charge's units.
    private const string Script = """
        local fmt = '<i8i8' .. string.rep('I4', 32)
        -- Forgets the addresses whose window has passed; returns how many are left.
        local function prune(set, slot)
          local all = redis.call('HGETALL', set)
          local left = 0
          for j = 1, #all, 2 do
            if slot - tonumber(all[j + 1]) >= 32 then redis.call('HDEL', set, all[j]) else left = left + 1 end
          end
          return left
        end
        local result = {}
        local a = 2
        local k = 1
        for d = 1, tonumber(ARGV[1]) do
          local commit = ARGV[a] == '1'
          local n = tonumber(ARGV[a + 1])
          a = a + 2
          local head = #result + 1
          result[head] = 1
          local charges = {}
          for i = 1, n do
            local c = { slot = tonumber(ARGV[a]), units = tonumber(ARGV[a + 1]), max = tonumber(ARGV[a + 2]), expiry = ARGV[a + 3], ring = KEYS[k] }
            k = k + 1
            if ARGV[a + 4] == '1' then
              c.set = KEYS[k]
              k = k + 1
              c.cap = tonumber(ARGV[a + 5])
              local h = tonumber(ARGV[a + 6])
              c.seen = {}
              c.fresh = {}
              for j = 1, h do
                local hash = ARGV[a + 6 + j]
                local seen = redis.call('HGET', c.set, hash)
                if seen and c.slot - tonumber(seen) < 32 then
                  c.seen[#c.seen + 1] = { hash, tonumber(seen) }
                else
                  c.fresh[#c.fresh + 1] = hash
                end
              end
              c.units = c.units + #c.fresh
              a = a + 7 + h
            else
              a = a + 5
            end
            local raw = redis.call('GET', c.ring)
            local w
            if raw and #raw == 144 then
              w = { struct.unpack(fmt, raw) }
            else
              w = { c.slot, 0 }
              for s = 3, 34 do w[s] = 0 end
            end
            if c.slot > w[1] then
              if c.slot - w[1] >= 32 then
                for s = 3, 34 do w[s] = 0 end
                w[2] = 0
              else
                for s = w[1] + 1, c.slot do
                  local at = 3 + (s % 32)
                  w[2] = w[2] - w[at]
                  w[at] = 0
                end
              end
              w[1] = c.slot
            end
            result[head + i] = w[2]
            result[head + n + i] = c.units
            if w[2] + c.units > c.max then result[head] = 0 end
            c.w = w
            charges[i] = c
          end
          if result[head] == 1 and commit then
            for i = 1, n do
              local c = charges[i]
              local w = c.w
              local at = 3 + (w[1] % 32)
              if c.set then
                for _, s in ipairs(c.seen) do
                  local from = 3 + (s[2] % 32)
                  if s[2] < w[1] and w[from] > 0 then
                    w[from] = w[from] - 1
                    w[at] = w[at] + 1
                  end
                  if s[2] < c.slot then redis.call('HSET', c.set, s[1], c.slot) end
                end
                local held = redis.call('HLEN', c.set)
                local pruned = false
                for _, hash in ipairs(c.fresh) do
                  if held >= c.cap and not pruned then
                    held = prune(c.set, c.slot)
                    pruned = true
                  end
                  if held < c.cap or redis.call('HEXISTS', c.set, hash) == 1 then
                    if redis.call('HSET', c.set, hash, c.slot) == 1 then held = held + 1 end
                  end
                end
              end
              w[at] = w[at] + c.units
              w[2] = w[2] + c.units
              redis.call('SET', c.ring, struct.pack(fmt, unpack(w, 1, 34)), 'PX', c.expiry)
              if c.set then
                local held = redis.call('HLEN', c.set)
                if held > 64 and held > 2 * w[2] then prune(c.set, c.slot) end
                redis.call('PEXPIRE', c.set, c.expiry)
              end
            end
          end
        end
        return result
        """;

    // A batch is at most this many decisions, so that one script never holds Redis for long.
    private const int MaxBatch = 64;

    private readonly RedisStore _redis;
    private readonly MemoryCounterStore _local;
    private readonly string _prefix;
    // Ring keys recently used, by rule and identity: a busy identity's keys are not rebuilt for every decision. A
    // fixed number of slots, each replaced whole, so it stays small whatever the number of identities.
    private const int KeySlots = 4096;

    private readonly KeyEntry?[] _keys = new KeyEntry?[KeySlots];
    private readonly Dictionary<int, RedisKey[]> _keyArrays = [];
    private readonly Dictionary<int, RedisValue[]> _argArrays = [];
    private readonly Lock _gate = new();
    private readonly Stack<PendingCharge> _free = new();
    private List<PendingCharge> _waiting = [];
    private bool _flying;

    /// <param name="redis">The shared connection.</param>
    /// <param name="local">This node's own counters, used while Redis is unavailable and the fail mode is open.</param>
    /// <param name="keyPrefix">Overrides the configured key prefix (tests keep stores apart in one Redis with it).</param>
    public RedisCounterStore(RedisStore redis, MemoryCounterStore local, string? keyPrefix = null)
    {
        _redis = redis;
        _local = local;
        _prefix = keyPrefix ?? redis.Options.KeyPrefix;
    }

    /// <summary>The key of one identity's ring for one rule: the window is part of it, so a changed window starts afresh.</summary>
    public static string KeyOf(string prefix, LimitRule rule, string identity) =>
        string.Concat(prefix, "c:", ScopeNames.Of(rule.Scope), ":", rule.Name, "/", rule.WindowText, ":", identity);

    /// <summary>The key of one identity's remembered addresses for a unique-recipients rule (hash -> slot last counted).</summary>
    public static string AddressesKeyOf(string prefix, LimitRule rule, string identity) =>
        string.Concat(prefix, "u:", ScopeNames.Of(rule.Scope), ":", rule.Name, "/", rule.WindowText, ":", identity);

    public ValueTask<bool> ChargeAsync(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit)
    {
        if (charges.Length == 0)
        {
            return ValueTask.FromResult(true);
        }

        // No state machine: the decision waits on its reusable PendingCharge, which also applies the fail mode.
        return _redis.IsAvailable ? ChargeInRedis(charges, counts, now, commit) : ValueTask.FromResult(WithoutRedis(charges.Span, counts.Span, now, commit));
    }

    // Redis is unavailable for this decision: fail closed (throws) or decide with this node's own counters.
    private bool WithoutRedis(ReadOnlySpan<CounterCharge> charges, Span<long> counts, DateTimeOffset now, bool commit)
    {
        if (_redis.Options.FailMode == FailMode.Closed)
        {
            _redis.CountFallback("deferred");
            throw new StoreUnavailableException();
        }

        _redis.CountFallback("local");
        return _local.Charge(charges, counts, now, commit);
    }

    /// <summary>The identities of a scope with a ring in Redis (a SCAN over its keys; this node's own while Redis is unavailable).</summary>
    public async Task<IReadOnlyList<string>> KeysAsync(Scope scope)
    {
        var head = string.Concat(_prefix, "c:", ScopeNames.Of(scope), ":");
        var keys = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await foreach (var key in _redis.Server.KeysAsync(pattern: Glob(head) + "*", pageSize: 1000))
            {
                // What follows the scope is "rule/window:identity"; rule names and windows have no colon.
                var rest = key.ToString()[head.Length..];
                var colon = rest.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    keys.Add(rest[(colon + 1)..]);
                }
            }
        }
        catch (Exception e) when (RedisStore.IsOutage(e))
        {
            _redis.Failed(e);
            return _local.Keys(scope);
        }

        return [.. keys];
    }

    /// <summary>Each rule's count for one identity now, read from Redis (this node's own while Redis is unavailable).</summary>
    public async Task<long[]> CountsOfAsync(Scope scope, string key, DateTimeOffset now)
    {
        var rules = _local.Rules.Rules.Where(r => r.Scope == scope).ToList();
        RedisValue[] rings;
        try
        {
            rings = await _redis.Database.StringGetAsync([.. rules.Select(r => (RedisKey)KeyOf(_prefix, r, key))]);
        }
        catch (Exception e) when (RedisStore.IsOutage(e))
        {
            _redis.Failed(e);
            return _local.CountsOf(scope, key, now);
        }

        var counts = new long[_local.Rules.Rules.Count];
        Array.Fill(counts, -1);
        for (var i = 0; i < rules.Count; i++)
        {
            var window = default(SlidingWindow);
            counts[rules[i].Index] = rings[i].HasValue && window.TryReadFrom((byte[])rings[i]!) ? window.CountAt(now.UtcTicks / rules[i].SlotTicks) : 0;
        }

        return counts;
    }

    /// <summary>Forgets an identity's counters in Redis (every rule of its scope) and on this node.</summary>
    public async Task ResetAsync(Identity identity)
    {
        _local.Reset(identity.Scope, identity.Key);
        var rules = _local.Rules.Rules.Where(r => r.Scope == identity.Scope).ToList();
        var keys = rules.Select(r => (RedisKey)KeyOf(_prefix, r, identity.Key))
            .Concat(rules.Where(r => r.Unit == LimitUnit.UniqueRecipients).Select(r => (RedisKey)AddressesKeyOf(_prefix, r, identity.Key))).ToArray();
        if (keys.Length > 0)
        {
            await _redis.Database.KeyDeleteAsync(keys);
        }
    }

    // SCAN's MATCH pattern is a glob: a prefix with * ? [ ] \ in it matches itself only when they are escaped.
    private static string Glob(string literal) =>
        System.Text.RegularExpressions.Regex.Replace(literal, @"[*?\[\]\\]", @"\$0");

    /// <summary>
    /// Joins the next batch: while one script call is on its way, the decisions that arrive meanwhile wait and go
    /// together in the next one (Redis runs them in turn, as if one by one), so a busy node makes one round trip for
    /// many decisions instead of one each; a lone decision goes at once.
    /// </summary>
    private ValueTask<bool> ChargeInRedis(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit)
    {
        List<PendingCharge> batch;
        PendingCharge pending;
        lock (_gate)
        {
            pending = _free.Count > 0 ? _free.Pop() : new PendingCharge(this);
            pending.Start(charges, counts, now, commit);
            if (_flying)
            {
                _waiting.Add(pending);
                return pending.Awaitable;
            }

            _flying = true;
            batch = [pending];
        }

        _ = FlyAsync(batch);
        return pending.Awaitable;
    }

    // A decision has taken its outcome: its waiting object serves the next one.
    private void Return(PendingCharge pending)
    {
        lock (_gate)
        {
            if (_free.Count < MaxBatch * 4)
            {
                _free.Push(pending);
            }
        }
    }

    // An array of exactly this length (the script call takes whole arrays) from the ones earlier batches gave back; a
    // batch at a time is in flight, so only that one uses them. The sizes vary with the batch, so they are bounded.
    private static T[] Reused<T>(Dictionary<int, T[]> arrays, int length)
    {
        if (arrays.Remove(length, out var array))
        {
            return array;
        }

        if (arrays.Count >= 128)
        {
            arrays.Clear();
        }

        return new T[length];
    }

    private KeyEntry KeyFor(LimitRule rule, string identity)
    {
        var slot = (int)((uint)HashCode.Combine(rule.Index, identity) % KeySlots);
        var entry = Volatile.Read(ref _keys[slot]);
        if (entry is null || !ReferenceEquals(entry.Rule, rule) || !(ReferenceEquals(entry.Identity, identity) || entry.Identity == identity))
        {
            entry = new KeyEntry(rule, identity, KeyOf(_prefix, rule, identity),
                rule.Unit == LimitUnit.UniqueRecipients ? AddressesKeyOf(_prefix, rule, identity) : default);
            Volatile.Write(ref _keys[slot], entry);
        }

        return entry;
    }

    // One script call after another while decisions wait; stops when none is left.
    private async Task FlyAsync(List<PendingCharge> batch)
    {
        while (true)
        {
            await RunBatchAsync(batch);
            lock (_gate)
            {
                batch.Clear();
                if (_waiting.Count == 0)
                {
                    _flying = false;
                    return;
                }

                if (_waiting.Count <= MaxBatch)
                {
                    (batch, _waiting) = (_waiting, batch);
                }
                else
                {
                    batch.AddRange(_waiting.GetRange(0, MaxBatch));
                    _waiting.RemoveRange(0, MaxBatch);
                }
            }
        }
    }

    // Completes every decision of the batch and never throws: a Redis outage counts once for the whole batch.
    private async Task RunBatchAsync(List<PendingCharge> batch)
    {
        // The batch before may have found Redis gone: then these decisions do not wait out a timeout of their own.
        if (!_redis.IsAvailable)
        {
            foreach (var p in batch)
            {
                p.Complete(Outcome.Unavailable);
            }

            return;
        }

        try
        {
            int keyCount = 0, argCount = 1 + (batch.Count * 2);
            foreach (var p in batch)
            {
                foreach (var c in p.Charges.Span)
                {
                    var unique = c.Rule.Unit == LimitUnit.UniqueRecipients;
                    keyCount += unique ? 2 : 1;
                    argCount += unique ? 7 + c.Recipients.Length : 5;
                }
            }

            var keys = Reused(_keyArrays, keyCount);
            var args = Reused(_argArrays, argCount);
            args[0] = batch.Count;
            int k = 0, a = 1;
            foreach (var p in batch)
            {
                args[a++] = p.Commit ? 1 : 0;
                args[a++] = p.Charges.Length;
                foreach (var c in p.Charges.Span)
                {
                    var entry = KeyFor(c.Rule, c.Key);
                    keys[k++] = entry.Key;
                    args[a++] = p.Ticks / c.Rule.SlotTicks;
                    args[a++] = c.Units;
                    args[a++] = c.Max;

                    // A ring whose newest slot is 32 slots old holds nothing inside any window: expire it then.
                    args[a++] = ((c.Rule.SlotTicks * SlidingWindow.Slots) + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
                    if (c.Rule.Unit != LimitUnit.UniqueRecipients)
                    {
                        args[a++] = 0;
                        continue;
                    }

                    keys[k++] = entry.AddressesKey;
                    args[a++] = 1;
                    args[a++] = c.Rule.TrackedMax;
                    args[a++] = c.Recipients.Length;
                    foreach (var hash in c.Recipients.Span)
                    {
                        args[a++] = hash;
                    }
                }
            }

            // Only a call that came back gives its arrays back: one that timed out may still be written later.
            var result = (RedisResult[])(await _redis.Database.ScriptEvaluateAsync(Script, keys, args))!;
            _keyArrays[keys.Length] = keys;
            _argArrays[args.Length] = args;
            _redis.Succeeded();
            var r = 0;
            foreach (var p in batch)
            {
                var fits = (long)result[r++] == 1;
                var span = p.Counts.Span;
                var n = p.Charges.Length;
                for (var i = 0; i < n; i++)
                {
                    span[i] = (long)result[r++];
                }

                for (var i = 0; i < n; i++, r++)
                {
                    if (span.Length >= 2 * n)
                    {
                        span[n + i] = (long)result[r];
                    }
                }

                p.Complete(fits ? Outcome.Fits : Outcome.Refused);
            }
        }
        catch (Exception e) when (RedisStore.IsOutage(e))
        {
            _redis.Failed(e);
            foreach (var p in batch)
            {
                p.Complete(Outcome.Unavailable);
            }
        }
        catch (Exception e)
        {
            foreach (var p in batch)
            {
                p.Fail(e);
            }
        }
    }

    private enum Outcome
    {
        Fits,
        Refused,
        Unavailable,
    }

    private sealed record KeyEntry(LimitRule Rule, string Identity, RedisKey Key, RedisKey AddressesKey);

    // One decision waiting for its batch; its charges and counts are the caller's, which awaits the outcome. Reused:
    // once the caller has its outcome the object goes back to the store's free list for a later decision. A batch that
    // found Redis unavailable completes it with the fail mode's answer (this node's counters, or the exception).
    private sealed class PendingCharge(RedisCounterStore store) : IValueTaskSource<bool>
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private DateTimeOffset _now;

        public ReadOnlyMemory<CounterCharge> Charges { get; private set; }

        public Memory<long> Counts { get; private set; }

        public long Ticks => _now.UtcTicks;

        public bool Commit { get; private set; }

        public ValueTask<bool> Awaitable => new(this, _core.Version);

        public void Start(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit)
        {
            Charges = charges;
            Counts = counts;
            _now = now;
            Commit = commit;
        }

        public void Complete(Outcome outcome)
        {
            if (outcome != Outcome.Unavailable)
            {
                _core.SetResult(outcome == Outcome.Fits);
                return;
            }

            bool fits;
            try
            {
                fits = store.WithoutRedis(Charges.Span, Counts.Span, _now, Commit);
            }
            catch (Exception e)
            {
                _core.SetException(e);
                return;
            }

            _core.SetResult(fits);
        }

        public void Fail(Exception e) => _core.SetException(e);

        public bool GetResult(short token)
        {
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                Charges = default;
                Counts = default;
                _core.Reset();
                store.Return(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
