using Floodgate.Engine;

namespace Floodgate.Tests.Engine;

/// <summary>
/// The exact reference model of a limit: every accepted unit with its time, per rule and identity. A window of
/// length W at time t holds the units with time in (t-W, t].
/// </summary>
internal sealed class SlidingLog
{
    private readonly Dictionary<(string Rule, string Key), List<(long Ticks, long Units)>> _events = [];

    public long CountIn(LimitRule rule, string key, DateTimeOffset now, TimeSpan window)
    {
        if (!_events.TryGetValue((rule.Name, key), out var list))
        {
            return 0;
        }

        var from = now.UtcTicks - window.Ticks;
        return list.Where(e => e.Ticks > from && e.Ticks <= now.UtcTicks).Sum(e => e.Units);
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
