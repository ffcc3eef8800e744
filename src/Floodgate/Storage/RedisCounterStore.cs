using Floodgate.Configuration;
using Floodgate.Engine;
using StackExchange.Redis;

namespace Floodgate.Storage;

/// <summary>
/// Window counters in Redis, one key per identity and rule, each the same 32-slot ring as <see cref="SlidingWindow"/>
/// (the same bytes as its snapshot); a whole check-and-count is one Lua script, so every node enforces each limit exactly.
/// While Redis is unavailable, decides with this node's own counters (fail open) or throws <see cref="StoreUnavailableException"/>.
/// </summary>
public sealed class RedisCounterStore : ICounterStore, ICounterView
{
    // The ring as SlidingWindow.WriteTo lays it out: newest slot (int64), total (int64), 32 slot counts (uint32), little-endian.
    // Same semantics as MemoryCounterStore.Charge: advance each ring to the current slot, check every charge, and count
    // all of them only when every one fits; a clock behind the ring's newest slot counts into that newest slot.
    private const string Script = """
        local fmt = '<i8i8' .. string.rep('I4', 32)
        local commit = ARGV[1] == '1'
        local result = {1}
        local rings = {}
        for i = 1, #KEYS do
          local a = 2 + (i - 1) * 4
          local slot = tonumber(ARGV[a])
          local units = tonumber(ARGV[a + 1])
          local max = tonumber(ARGV[a + 2])
          local raw = redis.call('GET', KEYS[i])
          local w
          if raw and #raw == 144 then
            w = { struct.unpack(fmt, raw) }
          else
            w = { slot, 0 }
            for s = 3, 34 do w[s] = 0 end
          end
          if slot > w[1] then
            if slot - w[1] >= 32 then
              for s = 3, 34 do w[s] = 0 end
              w[2] = 0
            else
              for s = w[1] + 1, slot do
                local at = 3 + (s % 32)
                w[2] = w[2] - w[at]
                w[at] = 0
              end
            end
            w[1] = slot
          end
          result[i + 1] = w[2]
          if w[2] + units > max then result[1] = 0 end
          rings[i] = w
        end
        if result[1] == 1 and commit then
          for i = 1, #KEYS do
            local a = 2 + (i - 1) * 4
            local units = tonumber(ARGV[a + 1])
            local w = rings[i]
            local at = 3 + (w[1] % 32)
            w[at] = w[at] + units
            w[2] = w[2] + units
            redis.call('SET', KEYS[i], struct.pack(fmt, unpack(w, 1, 34)), 'PX', ARGV[a + 3])
          end
        end
        return result
        """;

    private readonly RedisStore _redis;
    private readonly MemoryCounterStore _local;
    private readonly string _prefix;

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

    public async ValueTask<bool> ChargeAsync(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit)
    {
        if (charges.Length == 0)
        {
            return true;
        }

        if (_redis.IsAvailable)
        {
            try
            {
                var fits = await ChargeInRedisAsync(charges, counts, now, commit);
                _redis.Succeeded();
                return fits;
            }
            catch (Exception e) when (RedisStore.IsOutage(e))
            {
                _redis.Failed(e);
            }
        }

        if (_redis.Options.FailMode == FailMode.Closed)
        {
            _redis.CountFallback("deferred");
            throw new StoreUnavailableException();
        }

        _redis.CountFallback("local");
        return _local.Charge(charges.Span, counts.Span, now, commit);
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
    public async Task ResetAsync(RuleSet rules, Identity identity)
    {
        _local.Reset(identity.Scope, identity.Key);
        var keys = rules.Rules.Where(r => r.Scope == identity.Scope).Select(r => (RedisKey)KeyOf(_prefix, r, identity.Key)).ToArray();
        if (keys.Length > 0)
        {
            await _redis.Database.KeyDeleteAsync(keys);
        }
    }

    // SCAN's MATCH pattern is a glob: a prefix with * ? [ ] \ in it matches itself only when they are escaped.
    private static string Glob(string literal) =>
        System.Text.RegularExpressions.Regex.Replace(literal, @"[*?\[\]\\]", @"\$0");

    private async ValueTask<bool> ChargeInRedisAsync(ReadOnlyMemory<CounterCharge> charges, Memory<long> counts, DateTimeOffset now, bool commit)
    {
        var ticks = now.UtcTicks;
        var keys = new RedisKey[charges.Length];
        var args = new RedisValue[1 + (charges.Length * 4)];
        args[0] = commit ? 1 : 0;
        var prefix = _prefix;
        for (var i = 0; i < charges.Length; i++)
        {
            var c = charges.Span[i];
            keys[i] = KeyOf(prefix, c.Rule, c.Key);
            args[1 + (i * 4)] = ticks / c.Rule.SlotTicks;
            args[2 + (i * 4)] = c.Units;
            args[3 + (i * 4)] = c.Max;

            // A ring whose newest slot is 32 slots old holds nothing inside any window: expire it then.
            args[4 + (i * 4)] = ((c.Rule.SlotTicks * SlidingWindow.Slots) + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
        }

        var result = (RedisResult[])(await _redis.Database.ScriptEvaluateAsync(Script, keys, args))!;
        var span = counts.Span;
        for (var i = 0; i < charges.Length; i++)
        {
            span[i] = (long)result[i + 1];
        }

        return (long)result[0] == 1;
    }
}
