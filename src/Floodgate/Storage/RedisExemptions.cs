using System.Globalization;
using System.Text.Json;
using Floodgate.Engine;
using StackExchange.Redis;

namespace Floodgate.Storage;

/// <summary>
/// Time-limited exemptions and API-set overrides shared by every node, in two Redis hashes; each change is announced
/// on the pub/sub channel so every node reloads them into its engine.
/// </summary>
public sealed class RedisExemptions(RedisStore redis) : IExemptionStore
{
    /// <summary>The pub/sub message that says exemptions or overrides changed.</summary>
    public const string Family = "exemptions";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly RedisKey _exemptions = redis.Key("exemptions");
    private readonly RedisKey _overrides = redis.Key("overrides");

    public void Save(Exemption exemption)
    {
        redis.Database.HashSet(_exemptions, exemption.Key, JsonSerializer.Serialize(exemption, Json));
        Announce();
    }

    public bool Delete(string key) => Announce(redis.Database.HashDelete(_exemptions, key));

    public List<Exemption> Load(DateTimeOffset now) =>
        [.. redis.Database.HashGetAll(_exemptions).Select(e => JsonSerializer.Deserialize<Exemption>(e.Value.ToString(), Json)!).Where(e => e.Until > now)];

    public void SaveOverride(string key, string rule, long max, string by, DateTimeOffset at)
    {
        redis.Database.HashSet(_overrides, Field(key, rule), max);
        Announce();
    }

    public bool DeleteOverride(string key, string rule) => Announce(redis.Database.HashDelete(_overrides, Field(key, rule)));

    public List<(string Key, string Rule, long Max)> LoadOverrides()
    {
        var result = new List<(string, string, long)>();
        foreach (var entry in redis.Database.HashGetAll(_overrides))
        {
            // The rule comes last: rule names have no spaces, keys (addresses, domains, IPs) have none either.
            var field = entry.Name.ToString();
            var space = field.LastIndexOf(' ');
            if (space > 0 && long.TryParse(entry.Value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var max))
            {
                result.Add((field[..space], field[(space + 1)..], max));
            }
        }

        return result;
    }

    private static string Field(string key, string rule) => $"{key} {rule}";

    private bool Announce(bool changed = true)
    {
        if (changed)
        {
            redis.PublishAsync(Family).GetAwaiter().GetResult();
        }

        return changed;
    }
}
