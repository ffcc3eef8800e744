using System.Collections.Concurrent;

namespace Floodgate.Engine;

/// <summary>The time-limited exemptions in force, in memory for the decision path; expired ones simply stop applying.</summary>
public sealed class ExemptionTable
{
    private readonly ConcurrentDictionary<string, Exemption> _byKey = new(StringComparer.Ordinal);

    public bool IsEmpty => _byKey.IsEmpty;

    public IReadOnlyList<Exemption> All => [.. _byKey.Values.OrderBy(e => e.Key, StringComparer.Ordinal)];

    public void Set(Exemption exemption) => _byKey[IdentityNormalizer.Normalize(exemption.Key)] = exemption with { Key = IdentityNormalizer.Normalize(exemption.Key) };

    public bool Remove(string key) => _byKey.TryRemove(IdentityNormalizer.Normalize(key), out _);

    /// <summary>The exemption in force for an account at <paramref name="now"/>: its own, else its domain's.</summary>
    public Exemption? Find(string? account, DateTimeOffset now)
    {
        if (account is null || _byKey.IsEmpty)
        {
            return null;
        }

        if (_byKey.TryGetValue(account, out var own) && own.Until > now)
        {
            return own;
        }

        var at = account.LastIndexOf('@');
        return at >= 0 && _byKey.TryGetValue(account[(at + 1)..], out var domain) && domain.Until > now ? domain : null;
    }
}
