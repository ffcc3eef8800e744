using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>Empties an identity's windows in this node's memory and in the saved snapshot, so a restart does not bring them back.</summary>
public sealed class EmbeddedCounterReset(MemoryCounterStore counters, SqliteCounterSnapshots snapshots) : ICounterReset
{
    public Task ResetAsync(Identity identity)
    {
        counters.Reset(identity.Scope, identity.Key);
        snapshots.Delete(identity.Scope, identity.Key);
        return Task.CompletedTask;
    }
}
