using Floodgate.Configuration;
using Floodgate.Storage;

namespace Floodgate.Behaviour;

/// <summary>The profile store a configuration names: the cluster's Redis with store: redis, else SQLite in data_dir.</summary>
public static class ProfileStores
{
    /// <summary>Opens it over <paramref name="database"/> or <paramref name="redis"/> (already connected, for store: redis).</summary>
    public static IProfileStore Open(FloodgateOptions options, FloodgateDatabase database, RedisStore? redis) =>
        options.Store == StoreKind.Redis && redis is not null ? new RedisProfiles(redis) : new SqliteProfiles(database);
}
