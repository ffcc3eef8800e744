using System.IO.Compression;
using System.Text;

namespace Floodgate.Logs;

/// <summary>Opens log files as a mail admin has them: rotated ones oldest first (mail.log.3.gz, mail.log.2.gz, mail.log.1, mail.log), gzip or plain.</summary>
public static class LogFiles
{
    /// <summary>The files in the order their lines were written: the highest rotation number first, the live file last.</summary>
    public static IReadOnlyList<string> InWrittenOrder(IEnumerable<string> paths) =>
        [.. paths.OrderByDescending(RotationOf).ThenBy(p => p, StringComparer.Ordinal)];

    /// <summary>Every line of <paramref name="path"/>, decompressing .gz; a line cut by the end of the file is given as it is.</summary>
    public static IEnumerable<string> Lines(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;

        // Invalid UTF-8 (a log is written by whoever sends mail) becomes U+FFFD, never an exception.
        using var reader = new StreamReader(stream, new UTF8Encoding(false, false), false, 1 << 16);
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    /// <summary>When the file was last written (UTC): the latest a classic syslog timestamp in it can be.</summary>
    public static DateTime LastWriteOf(string path) => File.GetLastWriteTimeUtc(path);

    // mail.log -> 0, mail.log.1 -> 1, mail.log.2.gz -> 2, maillog-20261201 -> by date (older first).
    private static long RotationOf(string path)
    {
        var name = Path.GetFileName(path);
        if (name.EndsWith(".gz", StringComparison.Ordinal))
        {
            name = name[..^3];
        }

        var dot = name.LastIndexOf('.');
        if (dot >= 0 && long.TryParse(name.AsSpan(dot + 1), out var n) && n < 1000)
        {
            return n;
        }

        var dash = name.LastIndexOf('-');
        if (dash >= 0 && long.TryParse(name.AsSpan(dash + 1), out var date) && date > 19_000_000)
        {
            // Dated rotations (logrotate's dateext): older dates have lower numbers, so they come first.
            return 1_000_000_000 - date;
        }

        return 0;
    }
}
