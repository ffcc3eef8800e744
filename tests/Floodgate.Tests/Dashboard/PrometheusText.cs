using System.Globalization;

namespace Floodgate.Tests.Dashboard;

/// <summary>Prometheus' text exposition read into series ("name{labels}") and values, the way a scraper reads it.</summary>
internal static class PrometheusText
{
    public static Dictionary<string, double> Parse(string text)
    {
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            // name{labels} value [timestamp]; label values here never hold "} ".
            var close = line.LastIndexOf('}');
            var split = line.IndexOf(' ', close < 0 ? 0 : close);
            var value = line[(split + 1)..].Split(' ')[0];
            series[line[..split]] = value switch
            {
                "+Inf" => double.PositiveInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(value, CultureInfo.InvariantCulture),
            };
        }

        return series;
    }

    /// <summary>The sum of every series of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    public static double Sum(Dictionary<string, double> series, string name, params string[] labels) =>
        series.Where(s => (s.Key == name || s.Key.StartsWith(name + "{", StringComparison.Ordinal)) && labels.All(l => s.Key.Contains(l, StringComparison.Ordinal)))
            .Sum(s => s.Value);
}
