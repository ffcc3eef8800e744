namespace Floodgate.Configuration;

/// <summary>Where counters and account state live.</summary>
public enum StoreKind
{
    /// <summary>Counters in memory, accounts, incidents and exemptions in SQLite under the data directory.</summary>
    Embedded,

    /// <summary>Everything shared in one Redis, so several Floodgate nodes keep one ledger.</summary>
    Redis,
}
