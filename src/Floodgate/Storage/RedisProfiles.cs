using Floodgate.Behaviour;
using StackExchange.Redis;

namespace Floodgate.Storage;

/// <summary>
/// Account behaviour profiles in the cluster's Redis: one hash (KEY_PREFIX + "behaviour:profiles"), a field per
/// account holding its state. Every node loads them at start and writes back the profiles it changed; where two nodes
/// learned the same account meanwhile, the later save wins (a profile is a summary, and both copies are close).
/// </summary>
public sealed class RedisProfiles(RedisStore redis) : IProfileStore
{
    private readonly RedisKey _key = redis.Key("behaviour:profiles");

    public IEnumerable<(string Account, byte[] State)> LoadAll()
    {
        var result = new List<(string, byte[])>();
        foreach (var entry in redis.Database.HashScan(_key, pageSize: 1000))
        {
            if (entry.Value.HasValue)
            {
                result.Add((entry.Name.ToString(), (byte[])entry.Value!));
            }
        }

        return result;
    }

    public void Save(IReadOnlyList<(string Account, byte[] State)> profiles)
    {
        const int Batch = 500;
        for (var i = 0; i < profiles.Count; i += Batch)
        {
            var entries = new HashEntry[Math.Min(Batch, profiles.Count - i)];
            for (var j = 0; j < entries.Length; j++)
            {
                entries[j] = new HashEntry(profiles[i + j].Account, profiles[i + j].State);
            }

            redis.Database.HashSet(_key, entries);
        }
    }
}
