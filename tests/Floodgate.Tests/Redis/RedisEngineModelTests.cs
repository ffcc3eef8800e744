using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Storage;
using Floodgate.Tests.Engine;

namespace Floodgate.Tests.Redis;

/// <summary>The same reference-model tests over <see cref="RedisCounterStore"/> and a real redis-server.</summary>
[Collection(RedisGroup.Name)]
public sealed class RedisEngineModelTests(RedisInstance redis) : EngineModelTests, IAsyncLifetime
{
    private RedisStore? _store;

    // Fail mode closed: a decision that did not go through Redis throws instead of passing on local counters.
    public async Task InitializeAsync() => _store = await redis.ConnectAsync("model:", FailMode.Closed);

    public async Task DisposeAsync() => await _store!.DisposeAsync();

    // Each sample counts under its own key prefix, so samples (run in parallel) never see each other's counters.
    protected override Task<ICounterStore> NewStoreAsync(RuleSet rules) =>
        Task.FromResult<ICounterStore>(new RedisCounterStore(_store!, new MemoryCounterStore(rules), $"model:{Guid.NewGuid():N}:"));

    protected override int Samples(int inMemory) => inMemory / 4;
}
