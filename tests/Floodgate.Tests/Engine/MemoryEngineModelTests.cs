using Floodgate.Engine;
using Floodgate.Storage;

namespace Floodgate.Tests.Engine;

/// <summary>The reference-model tests over the embedded store, <see cref="MemoryCounterStore"/>.</summary>
public sealed class MemoryEngineModelTests : EngineModelTests
{
    protected override Task<ICounterStore> NewStoreAsync(RuleSet rules) => Task.FromResult<ICounterStore>(new MemoryCounterStore(rules));
}
