using Floodgate.Alerts;
using Floodgate.Configuration;
using Floodgate.Incidents;

namespace Floodgate.Storage;

/// <summary>
/// The stores of a cluster node on one Redis, and the wiring that keeps this node's copies fresh: a pub/sub message
/// reloads the family of state it names, and Redis's return after an outage reloads them all.
/// </summary>
public sealed partial class SharedStores : IAsyncDisposable
{
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    private SharedStores(RedisStore redis, RedisCounterStore counters, RedisAccountStore accounts)
    {
        Redis = redis;
        Counters = counters;
        Accounts = accounts;
        Incidents = new RedisIncidentStore(redis);
        Exemptions = new RedisExemptions(redis);
    }

    public RedisStore Redis { get; }

    public RedisCounterStore Counters { get; }

    public RedisAccountStore Accounts { get; }

    public RedisIncidentStore Incidents { get; }

    public RedisExemptions Exemptions { get; }

    /// <summary>Connects (without waiting for Redis to be up) and reads the suspensions in force.</summary>
    public static async Task<SharedStores> OpenAsync(RedisOptions options, MemoryCounterStore local)
    {
        var redis = await RedisStore.ConnectAsync(options);
        return new SharedStores(redis, new RedisCounterStore(redis, local), await RedisAccountStore.OpenAsync(redis));
    }

    /// <summary>Loads incidents and exemptions from Redis and keeps them fresh from now on.</summary>
    public void Attach(IncidentBook incidents, LimitAdjustments adjustments, ILogger<RedisStore> logger, AlertDispatcher alerts)
    {
        _logger = logger;
        Redis.Attach(logger, alerts);
        Redis.Changed += family => _ = SyncAsync(incidents, adjustments, family);
        Redis.Restored += () => _ = SyncAsync(incidents, adjustments, null);
        SyncAsync(incidents, adjustments, null).GetAwaiter().GetResult();
    }

    public async ValueTask DisposeAsync()
    {
        Accounts.Dispose();
        await Redis.DisposeAsync();
    }

    // family null: everything (at start, and when Redis returns after an outage in which messages were lost).
    private async Task SyncAsync(IncidentBook incidents, LimitAdjustments adjustments, string? family)
    {
        // A slow answer (a cold start) is tried again; a real outage is reported, and Redis's return syncs again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (family is null or RedisIncidentStore.Family)
                {
                    await incidents.SyncIncidentsAsync();
                }

                if (family is null or RedisExemptions.Family)
                {
                    await Task.Run(adjustments.Sync);
                }

                return;
            }
            catch (Exception e) when (RedisStore.IsOutage(e))
            {
                if (e is StackExchange.Redis.RedisConnectionException || attempt == 5)
                {
                    Redis.Lost(e.GetType().Name);
                    return;
                }

                await Task.Delay(100 * attempt);
            }
            catch (Exception e)
            {
                LogSyncFailed(e, family ?? "all");
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "store: reloading {Family} from redis failed")]
    private partial void LogSyncFailed(Exception e, string family);
}
