using System.Collections.Concurrent;
using System.Text.Json;
using Floodgate.Engine;
using StackExchange.Redis;

namespace Floodgate.Storage;

/// <summary>
/// Suspensions shared by every node: a Redis hash is the source of truth, each node decides from a memory copy that
/// a pub/sub message refreshes within milliseconds of a change on any node, so the hot path makes no round trip.
/// </summary>
/// <remarks>
/// A suspension or release made while Redis is unavailable holds on this node at once and is written to Redis when
/// it returns; the memory copy is then reloaded, since messages sent during the outage were lost.
/// </remarks>
public sealed class RedisAccountStore : IAccountStore, IDisposable
{
    /// <summary>The pub/sub message that says the suspensions changed.</summary>
    public const string Family = "suspensions";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly RedisStore _redis;
    private readonly RedisKey _key;
    private readonly MemoryAccountStore _cache = new();
    private readonly ConcurrentDictionary<Identity, Suspension?> _pending = new();
    private readonly SemaphoreSlim _reloading = new(1, 1);

    private RedisAccountStore(RedisStore redis)
    {
        _redis = redis;
        _key = redis.Key("suspensions");
        redis.Changed += family =>
        {
            if (family == Family)
            {
                _ = ReloadAsync();
            }
        };
        redis.Restored += () => _ = WritePendingAsync();
    }

    /// <summary>Opens the store and reads the cluster's suspensions (none yet, if Redis is unavailable at start).</summary>
    public static async Task<RedisAccountStore> OpenAsync(RedisStore redis)
    {
        var store = new RedisAccountStore(redis);
        await store.ReloadAsync();
        return store;
    }

    public ValueTask<Suspension?> FindSuspensionAsync(IdentityKeys keys) => _cache.FindSuspensionAsync(keys);

    public async ValueTask<bool> SuspendAsync(Suspension suspension)
    {
        if (_redis.IsAvailable)
        {
            try
            {
                // HSETNX: of several nodes suspending the same identity at once, exactly one opens the incident.
                var added = await _redis.Database.HashSetAsync(_key, suspension.Identity.ToString(), Serialize(suspension), When.NotExists);
                await _cache.SuspendAsync(suspension);
                if (added)
                {
                    await _redis.PublishAsync(Family);
                }

                return added;
            }
            catch (Exception e) when (RedisStore.IsOutage(e))
            {
                _redis.Failed(e);
            }
        }

        if (!await _cache.SuspendAsync(suspension))
        {
            return false;
        }

        _pending[suspension.Identity] = suspension;
        return true;
    }

    public async ValueTask<bool> ReleaseAsync(Identity identity)
    {
        var local = await _cache.ReleaseAsync(identity);
        if (_redis.IsAvailable)
        {
            try
            {
                // Redis says whether it was suspended: every node's copy holds the suspension, only one node lifts it.
                var removed = await _redis.Database.HashDeleteAsync(_key, identity.ToString());
                _pending.TryRemove(identity, out _);
                await _redis.PublishAsync(Family);
                return removed;
            }
            catch (Exception e) when (RedisStore.IsOutage(e))
            {
                _redis.Failed(e);
            }
        }

        _pending[identity] = null;
        return local;
    }

    public ValueTask<IReadOnlyList<Suspension>> ListSuspensionsAsync() => _cache.ListSuspensionsAsync();

    public void Dispose() => _reloading.Dispose();

    /// <summary>Replaces the memory copy with the cluster's suspensions; keeps it as it is when Redis is unavailable.</summary>
    public async Task ReloadAsync()
    {
        await _reloading.WaitAsync();
        try
        {
            HashEntry[] entries;
            try
            {
                entries = await _redis.Database.HashGetAllAsync(_key);
            }
            catch (Exception e) when (RedisStore.IsOutage(e))
            {
                _redis.Failed(e);
                return;
            }

            var shared = new Dictionary<Identity, Suspension>();
            foreach (var entry in entries)
            {
                if (Deserialize(entry.Name!, entry.Value!) is { } s)
                {
                    shared[s.Identity] = s;
                }
            }

            foreach (var (identity, pending) in _pending)
            {
                if (pending is null)
                {
                    shared.Remove(identity);
                }
                else
                {
                    shared[identity] = pending;
                }
            }

            foreach (var held in await _cache.ListSuspensionsAsync())
            {
                if (!shared.TryGetValue(held.Identity, out var now) || Serialize(now) != Serialize(held))
                {
                    await _cache.ReleaseAsync(held.Identity);
                }
            }

            foreach (var s in shared.Values)
            {
                await _cache.SuspendAsync(s);
            }
        }
        finally
        {
            _reloading.Release();
        }
    }

    private async Task WritePendingAsync()
    {
        try
        {
            foreach (var (identity, suspension) in _pending)
            {
                if (suspension is null)
                {
                    await _redis.Database.HashDeleteAsync(_key, identity.ToString());
                }
                else
                {
                    await _redis.Database.HashSetAsync(_key, identity.ToString(), Serialize(suspension), When.NotExists);
                }

                _pending.TryRemove(new KeyValuePair<Identity, Suspension?>(identity, suspension));
            }
        }
        catch (Exception e) when (RedisStore.IsOutage(e))
        {
            _redis.Failed(e);
            return;
        }

        await _redis.PublishAsync(Family);
        await ReloadAsync();
    }

    private static string Serialize(Suspension s) =>
        JsonSerializer.Serialize(new Stored(s.Since, s.Rule, s.Reason, s.By), Json);

    private static Suspension? Deserialize(string field, string json)
    {
        var colon = field.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !ScopeNames.TryParseScope(field[..colon], out var scope) || JsonSerializer.Deserialize<Stored>(json, Json) is not { } stored)
        {
            return null;
        }

        return new Suspension(new Identity(scope, field[(colon + 1)..]), stored.Since, stored.Rule, stored.Reason, stored.By);
    }

    private sealed record Stored(DateTimeOffset Since, string? Rule, string Reason, string By);
}
