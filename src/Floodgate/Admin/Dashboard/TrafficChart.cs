using System.Globalization;
using System.Text;

namespace Floodgate.Admin.Dashboard;

/// <summary>Draws the per-minute traffic as an inline SVG line chart, on the server: no script or chart library needed.</summary>
public static class TrafficChart
{
    private const int Width = 960;
    private const int Height = 220;
    private const int Left = 52;
    private const int Right = 12;
    private const int Top = 12;
    private const int Bottom = 26;

    public static string Render(IReadOnlyList<MinuteTraffic> minutes)
    {
        var peak = Math.Max(1, minutes.Max(m => Math.Max(m.Recipients, Math.Max(m.Messages, m.Refused))));
        var scale = NiceCeiling(peak);
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        double X(int i) => Left + (minutes.Count == 1 ? 0 : (double)i * plotWidth / (minutes.Count - 1));
        double Y(long v) => Top + plotHeight - ((double)v * plotHeight / scale);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"messages, recipients and refused messages per minute\">");
        for (var step = 0; step <= 4; step++)
        {
            var value = scale * step / 4;
            var y = Y(value);
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{value:N0}</text>");
        }

        // A label every 10, 30 or 60 minutes, so there are about six.
        var every = minutes.Count <= 60 ? 10 : minutes.Count <= 180 ? 30 : 60;
        for (var i = 0; i < minutes.Count; i++)
        {
            var start = minutes[i].Start;
            if (start.Minute % every == 0)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{X(i):0.#}\" y=\"{Height - 8}\" text-anchor=\"middle\" data-time=\"{start:yyyy-MM-ddTHH:mm:ssZ}\">{start:HH:mm}</text>");
            }
        }

        Series(svg, minutes, "recipients", m => m.Recipients, X, Y);
        Series(svg, minutes, "messages", m => m.Messages, X, Y);
        Series(svg, minutes, "refused", m => m.Refused, X, Y);
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Series(StringBuilder svg, IReadOnlyList<MinuteTraffic> minutes, string name, Func<MinuteTraffic, long> value,
        Func<int, double> x, Func<long, double> y)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<polyline class=\"series {name}\" points=\"");
        for (var i = 0; i < minutes.Count; i++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"{x(i):0.#},{y(value(minutes[i])):0.#} ");
        }

        svg.Append("\"/>");
    }

    // 1, 2 or 5 times a power of ten, so the axis reads in round numbers.
    private static long NiceCeiling(long value)
    {
        var power = 1L;
        while (power * 10 <= value)
        {
            power *= 10;
        }

        foreach (var factor in new[] { 1, 2, 5, 10 })
        {
            if (factor * power >= value)
            {
                return factor * power;
            }
        }

        return 10 * power;
    }
}
