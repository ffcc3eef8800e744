using System.Diagnostics;

namespace Floodgate.Logs;

/// <summary>
/// Every message of a mail server's past logs, in the order it was logged: one reader over all the files, oldest
/// first, so a message whose lines straddle a rotation is still one message (`floodgate replay`, `floodgate learn`).
/// </summary>
public static class LogMessages
{
    /// <summary>Reads <paramref name="files"/> (already in written order) and hands each message to <paramref name="each"/>; returns the reader's counts.</summary>
    /// <param name="files">The log files, oldest first.</param>
    /// <param name="kerio">True for Kerio Connect's mail.log, false for Postfix.</param>
    /// <param name="year">The year of classic syslog timestamps, or null for each file's last-modified year.</param>
    /// <param name="each">Called for every message.</param>
    /// <param name="progress">Where a progress line goes about every second, or null.</param>
    /// <param name="count">What the progress line counts so far.</param>
    public static async Task<LogReadStats> ReadAsync(IReadOnlyList<string> files, bool kerio, int? year, Func<LoggedMessage, Task> each,
        TextWriter? progress, Func<string> count)
    {
        var clock = Stopwatch.StartNew();
        var postfix = kerio ? null : new PostfixLogReader(year ?? DateTime.UtcNow.Year);
        var kerioReader = kerio ? new KerioLogReader() : null;
        var stats = postfix?.Stats ?? kerioReader!.Stats;
        foreach (var file in files)
        {
            if (postfix is not null)
            {
                var written = LogFiles.LastWriteOf(file);
                postfix.StartFile(year ?? written.Year, year is null ? written.Month : 0);
            }

            foreach (var line in LogFiles.Lines(file))
            {
                foreach (var message in postfix?.Read(line) ?? kerioReader!.Read(line))
                {
                    await each(message);
                }

                if (progress is not null && clock.ElapsedMilliseconds > 1000)
                {
                    clock.Restart();
                    await progress.WriteAsync($"\r{Path.GetFileName(file)}: {stats.Lines} lines, {count()}");
                }
            }
        }

        foreach (var message in postfix?.Finish() ?? KerioLogReader.Finish())
        {
            await each(message);
        }

        if (progress is not null)
        {
            await progress.WriteLineAsync();
        }

        return stats;
    }
}
