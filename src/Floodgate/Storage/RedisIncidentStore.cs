using System.Text.Json;
using Floodgate.Engine;
using StackExchange.Redis;

namespace Floodgate.Storage;

/// <summary>
/// Incidents and the audit log shared by every node: each incident one JSON string, ids from a counter, sorted sets
/// of all and of open incidents, the audit log a capped list; each change is announced on the pub/sub channel.
/// </summary>
public sealed class RedisIncidentStore(RedisStore redis) : IIncidentStore, IAuditLog
{
    /// <summary>The pub/sub message that says incidents changed.</summary>
    public const string Family = "incidents";

    /// <summary>The audit log keeps this many newest entries.</summary>
    public const int AuditKept = 100_000;

    // Scopes by name ("account", "sender_domain"), as in the configuration and the SQLite store.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly RedisKey _next = redis.Key("incident:next");
    private readonly RedisKey _all = redis.Key("incidents");
    private readonly RedisKey _open = redis.Key("incidents:open");
    private readonly RedisKey _audit = redis.Key("audit");

    public async Task AddAsync(Incident incident)
    {
        incident.Id = await redis.Database.StringIncrementAsync(_next);
        await SaveAsync(incident);
    }

    public async Task SaveAsync(Incident incident)
    {
        string json;
        lock (incident)
        {
            json = JsonSerializer.Serialize(incident, Json);
        }

        var batch = redis.Database.CreateTransaction();
        _ = batch.StringSetAsync(KeyOf(incident.Id), json);
        _ = batch.SortedSetAddAsync(_all, incident.Id, incident.Id);
        _ = incident.IsOpen ? batch.SortedSetAddAsync(_open, incident.Id, incident.Id) : batch.SortedSetRemoveAsync(_open, incident.Id);
        await batch.ExecuteAsync();
        await redis.PublishAsync(Family);
    }

    public async Task<Incident?> GetAsync(long id)
    {
        var json = await redis.Database.StringGetAsync(KeyOf(id));
        return json.IsNull ? null : JsonSerializer.Deserialize<Incident>(json.ToString(), Json);
    }

    public async Task<IReadOnlyList<Incident>> ListAsync(bool openOnly, int limit)
    {
        var ids = await redis.Database.SortedSetRangeByRankAsync(openOnly ? _open : _all, 0, Math.Min(limit, int.MaxValue - 1) - 1L, Order.Descending);
        if (ids.Length == 0)
        {
            return [];
        }

        var values = await redis.Database.StringGetAsync([.. ids.Select(id => KeyOf((long)id))]);
        return [.. values.Where(v => !v.IsNull).Select(v => JsonSerializer.Deserialize<Incident>(v.ToString(), Json)!)];
    }

    public async Task AppendAsync(AuditEntry entry)
    {
        var batch = redis.Database.CreateTransaction();
        _ = batch.ListLeftPushAsync(_audit, JsonSerializer.Serialize(entry, Json));
        _ = batch.ListTrimAsync(_audit, 0, AuditKept - 1);
        await batch.ExecuteAsync();
    }

    async Task<IReadOnlyList<AuditEntry>> IAuditLog.ListAsync(int limit) =>
        [.. (await redis.Database.ListRangeAsync(_audit, 0, limit - 1)).Select(v => JsonSerializer.Deserialize<AuditEntry>(v.ToString(), Json)!)];

    private RedisKey KeyOf(long id) => redis.Key($"incident:{id}");
}
