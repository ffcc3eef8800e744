using System.Diagnostics;
using System.Globalization;

namespace Floodgate.Bench.Peers;

/// <summary>Processes by id, read from /proc: for daemons that fork away from the process this tool started.</summary>
internal static class UnixProcesses
{
    /// <summary>Whether <paramref name="pid"/> names a process that has not ended (a zombie has).</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { } stat && stat.State != 'Z';

    /// <summary>The live processes whose process group is <paramref name="group"/>.</summary>
    public static List<int> InGroup(int group)
    {
        var members = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Stat(pid) is { } stat && stat.Group == group && stat.State != 'Z')
            {
                members.Add(pid);
            }
        }

        return members;
    }

    /// <summary>Sends SIGKILL to <paramref name="pid"/> if it still runs.</summary>
    public static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Ended between the lookup and the kill.
        }
    }

    /// <summary>Reads a pid file; null when it does not exist (yet) or holds no number.</summary>
    public static int? ReadPidFile(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    // /proc/PID/stat is "pid (comm) state ppid pgrp ...", and comm may itself hold spaces and parentheses.
    private static (char State, int Group)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        var fields = text[(text.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 2 && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var group)
            ? (fields[0][0], group)
            : null;
    }
}
