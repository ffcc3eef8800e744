using System.Globalization;

namespace Floodgate.Engine;

/// <summary>Reads and writes window lengths in the configuration's short form: 90s, 5m, 1h, 24h, 7d.</summary>
public static class Durations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim();
        if (text.Length < 2)
        {
            return false;
        }

        var unit = text[^1];
        if (!long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return false;
        }

        long seconds = unit switch
        {
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            'd' => n * 86400,
            _ => -1,
        };
        if (seconds <= 0 || seconds > 366L * 86400)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    public static string Format(TimeSpan duration)
    {
        var s = (long)duration.TotalSeconds;
        if (s % 3600 == 0)
        {
            return $"{s / 3600}h";
        }

        return s % 60 == 0 ? $"{s / 60}m" : $"{s}s";
    }
}
