namespace Floodgate.Storage;

/// <summary>One pass of the counter store's memory budget: how many identities it forgot, and what is left.</summary>
public readonly record struct EvictionPass(int Evicted, int WithoutLogin, long BytesLeft, int IdentitiesLeft);
