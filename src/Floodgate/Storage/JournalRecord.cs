using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// One unit of the counter journal read back at start: <paramref name="Units"/> counted for <paramref name="Rule"/> (null: a
/// rule no longer configured) or, when <paramref name="IsReset"/>, the identity's counters forgotten.
/// </summary>
public readonly record struct JournalRecord(long Lsn, long Ticks, Scope Scope, string Key, LimitRule? Rule, long Units, bool IsReset);
