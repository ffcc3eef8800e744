using Floodgate.Configuration;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// The stores one node decides and keeps state with, embedded (memory and SQLite) or shared (Redis), behind their
/// interfaces: the rest of the host never needs to know which.
/// </summary>
public sealed record StoreSet(
    ICounterStore Counters,
    ICounterView View,
    IAccountStore Accounts,
    IIncidentStore Incidents,
    IAuditLog Audit,
    IExemptionStore Exemptions,
    IReadOnlyList<ICounterReset> Resets,
    SharedStores? Shared)
{
    /// <summary>Opens the stores <paramref name="options"/> names over this node's database and memory counters.</summary>
    public static StoreSet Open(FloodgateOptions options, FloodgateDatabase database, MemoryCounterStore counters, SqliteCounterSnapshots snapshots,
        StoreHealth? health = null)
    {
        var local = new EmbeddedCounterReset(counters, snapshots);
        if (options.Store == StoreKind.Redis)
        {
            var shared = SharedStores.OpenAsync(options.Redis, counters).GetAwaiter().GetResult();
            return new StoreSet(shared.Counters, shared.Counters, shared.Accounts, shared.Incidents, shared.Incidents, shared.Exemptions,
                [local, shared.Counters], shared);
        }

        var incidents = new SqliteIncidentStore(database);
        return new StoreSet(counters, counters, new SqliteAccountStore(database, health), incidents, incidents, new SqliteExemptions(database), [local], null);
    }
}
