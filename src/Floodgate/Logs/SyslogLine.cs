using System.Globalization;

namespace Floodgate.Logs;

/// <summary>
/// The parts of one syslog line as Postfix writes it: a classic timestamp ("Dec  1 18:08:18", no year) or an RFC 3339
/// one ("2026-12-01T18:08:18.123456+00:00"), the host, the program ("postfix/smtpd", "postfix-submission/smtpd") and
/// the message after "]: ".
/// </summary>
public readonly record struct SyslogLine(DateTimeOffset Time, string Program, string Message)
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>The service after the slash ("smtpd", "qmgr"): the syslog name before it may be anything.</summary>
    public string Service => Program[(Program.LastIndexOf('/') + 1)..];

    /// <summary>Parses a line; false for anything that is not a syslog line with a program tag. Classic timestamps take <paramref name="year"/>.</summary>
    public static bool TryParse(string line, int year, out SyslogLine parsed)
    {
        parsed = default;
        if (!TryTime(line, year, out var time, out var rest) || rest >= line.Length)
        {
            return false;
        }

        // "host program[pid]: message" (the pid is optional).
        var hostEnd = line.IndexOf(' ', rest);
        if (hostEnd < 0)
        {
            return false;
        }

        var tagEnd = line.IndexOf(": ", hostEnd + 1, StringComparison.Ordinal);
        if (tagEnd < 0)
        {
            return false;
        }

        var tag = line.AsSpan(hostEnd + 1, tagEnd - hostEnd - 1);
        var bracket = tag.IndexOf('[');
        var program = (bracket >= 0 ? tag[..bracket] : tag).ToString();
        if (program.Length == 0 || program.Contains(' ', StringComparison.Ordinal))
        {
            return false;
        }

        parsed = new SyslogLine(time, program, line[(tagEnd + 2)..]);
        return true;
    }

    private static bool TryTime(string line, int year, out DateTimeOffset time, out int rest)
    {
        time = default;
        rest = 0;
        if (line.Length >= 20 && char.IsAsciiDigit(line[0]) && line[4] == '-')
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && DateTimeOffset.TryParse(line.AsSpan(0, space), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
            {
                rest = space + 1;
                return true;
            }

            return false;
        }

        // "Dec  1 18:08:18" or "Dec 01 18:08:18".
        if (line.Length < 16 || line[3] != ' ')
        {
            return false;
        }

        var month = Array.IndexOf(Months, line[..3]) + 1;
        var dayText = line.AsSpan(4, 2).Trim();
        if (month == 0 || !int.TryParse(dayText, NumberStyles.None, CultureInfo.InvariantCulture, out var day) || line[6] != ' '
            || !TimeSpan.TryParseExact(line.AsSpan(7, 8), @"hh\:mm\:ss", CultureInfo.InvariantCulture, out var clock)
            || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        time = new DateTimeOffset(year, month, day, 0, 0, 0, TimeSpan.Zero) + clock;
        rest = 16;
        return true;
    }
}
