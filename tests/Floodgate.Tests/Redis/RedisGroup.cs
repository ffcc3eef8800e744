namespace Floodgate.Tests.Redis;

/// <summary>Tests that share one private redis-server, each under its own key prefix.</summary>
[CollectionDefinition(Name)]
public sealed class RedisGroup : ICollectionFixture<RedisInstance>
{
    public const string Name = "redis";
}
