using Floodgate.Engine;

namespace Floodgate.Tests.Engine;

/// <summary>
/// The exact reference model of a limit: every accepted unit with its time, per rule and identity. A window of
/// length W at time t holds the units with time in (t-W, t].
/// </summary>
internal sealed class SlidingLog
{
    private readonly Dictionary<(string Rule, string Key), List<(long Ticks, long Units)>> _events = [];
    private readonly Dictionary<(string Rule, string Key), List<(long Ticks, string Address)>> _addresses = [];

    public long CountIn(LimitRule rule, string key, DateTimeOffset now, TimeSpan window)
    {
        if (!_events.TryGetValue((rule.Name, key), out var list))
        {
            return 0;
        }

        var from = now.UtcTicks - window.Ticks;
        return list.Where(e => e.Ticks > from && e.Ticks <= now.UtcTicks).Sum(e => e.Units);
    }

    /// <summary>The distinct addresses written to in (t-W, t], together with <paramref name="also"/>.</summary>
    public long DistinctIn(LimitRule rule, string key, DateTimeOffset now, TimeSpan window, IEnumerable<string> also)
    {
        var from = now.UtcTicks - window.Ticks;
        var seen = _addresses.TryGetValue((rule.Name, key), out var list)
            ? list.Where(e => e.Ticks > from && e.Ticks <= now.UtcTicks).Select(e => e.Address)
            : [];
        return seen.Concat(also).Distinct(StringComparer.Ordinal).LongCount();
    }

    public void AddAddresses(LimitRule rule, string key, DateTimeOffset now, IEnumerable<string> addresses)
    {
        if (!_addresses.TryGetValue((rule.Name, key), out var list))
        {
            _addresses[(rule.Name, key)] = list = [];
        }

        list.AddRange(addresses.Select(a => (now.UtcTicks, a)));
    }

    public void Add(LimitRule rule, string key, DateTimeOffset now, long units)
    {
        if (!_events.TryGetValue((rule.Name, key), out var list))
        {
            _events[(rule.Name, key)] = list = [];
        }

        list.Add((now.UtcTicks, units));
    }
}
