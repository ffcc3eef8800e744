namespace Floodgate.Engine;

/// <summary>One rule's share of a decision: add <paramref name="Units"/> to <paramref name="Key"/>'s counter if it stays within <paramref name="Max"/>.</summary>
public readonly record struct CounterCharge(LimitRule Rule, string Key, long Units, long Max);
