namespace Floodgate.Engine;

/// <summary>
/// One rule's share of a decision: add <paramref name="Units"/> to <paramref name="Key"/>'s counter if it stays within
/// <paramref name="Max"/>. For a unique-recipients rule, <paramref name="Recipients"/> holds the message's distinct
/// address hashes (<see cref="RecipientHashes"/>): the store adds those not counted in the window to
/// <paramref name="Units"/> (the addresses the enforcement point could not name, each counted as new).
/// </summary>
public readonly record struct CounterCharge(LimitRule Rule, string Key, long Units, long Max, ReadOnlyMemory<ulong> Recipients = default);
