namespace Floodgate.Engine;

/// <summary>
/// A time-limited exemption: until <paramref name="Until"/>, the account (or domain) <paramref name="Key"/> is not
/// limited at all (<paramref name="Max"/> null) or its account limits are raised to <paramref name="Max"/>.
/// </summary>
public sealed record Exemption(string Key, long? Max, DateTimeOffset Until, string By, DateTimeOffset CreatedAt);
