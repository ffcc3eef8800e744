using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// One unit of the counter journal read back at start: <paramref name="Units"/> counted for <paramref name="Rule"/> (null: a
/// rule no longer configured) or, when <paramref name="IsReset"/>, the identity's counters forgotten; for a
/// unique-recipients rule, with the hashes of the addresses counted (<paramref name="Units"/> then counts those not named).
/// </summary>
public readonly record struct JournalRecord(long Lsn, long Ticks, Scope Scope, string Key, LimitRule? Rule, long Units, bool IsReset,
    ulong[]? Recipients = null);
