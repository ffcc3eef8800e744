using System.Collections.Concurrent;

namespace Floodgate.Engine;

/// <summary>
/// Per-account or per-domain limits set through the admin API (they win over the configuration's overrides), kept in
/// memory for the decision path.
/// </summary>
public sealed class OverrideTable
{
    private readonly ConcurrentDictionary<(string Key, string Rule), long> _max = new();

    public bool IsEmpty => _max.IsEmpty;

    public IReadOnlyList<(string Key, string Rule, long Max)> All =>
        [.. _max.OrderBy(e => e.Key.Key, StringComparer.Ordinal).ThenBy(e => e.Key.Rule, StringComparer.Ordinal).Select(e => (e.Key.Key, e.Key.Rule, e.Value))];

    public void Set(string key, string rule, long max) => _max[(IdentityNormalizer.Normalize(key), rule)] = max;

    public bool Remove(string key, string rule) => _max.TryRemove((IdentityNormalizer.Normalize(key), rule), out _);

    /// <summary>The override of <paramref name="rule"/> for an identity: its own, else its domain's.</summary>
    public bool TryGet(string rule, string key, out long max)
    {
        if (_max.TryGetValue((key, rule), out max))
        {
            return true;
        }

        var at = key.LastIndexOf('@');
        return at >= 0 && _max.TryGetValue((key[(at + 1)..], rule), out max);
    }
}
