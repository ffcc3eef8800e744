namespace Floodgate.Tests.Observe;

/// <summary>A command hook that writes its FLOODGATE_* environment to one file per run in its folder.</summary>
internal static class EnvHook
{
    /// <summary>Writes the hook into <paramref name="folder"/> and returns its path; configure it with args: [folder].</summary>
    public static string Write(string folder)
    {
        var script = Path.Combine(folder, "hook.sh");
        File.WriteAllText(script, "#!/bin/sh\nenv | grep '^FLOODGATE_' | sort > \"$1/env.$$.txt\"\ncat > /dev/null\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        return script;
    }

    /// <summary>The files of the runs so far.</summary>
    public static string[] Runs(string folder) => Directory.GetFiles(folder, "env.*.txt");

    /// <summary>One run's variables.</summary>
    public static Dictionary<string, string> Read(string run) =>
        File.ReadAllLines(run).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
}
