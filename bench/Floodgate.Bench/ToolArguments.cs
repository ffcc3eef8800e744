using System.Globalization;

namespace Floodgate.Bench;

/// <summary>The argument handling the bench tools share: --help, and a usage message on a bad option.</summary>
internal static class ToolArguments
{
    /// <summary>
    /// Parses <paramref name="args"/>; returns the exit code when the tool should stop here (0 after --help, 2 after
    /// a bad option, both with the usage printed), or null with <paramref name="options"/> set.
    /// </summary>
    public static async Task<int?> ParseAsync<T>(IReadOnlyList<string> args, string usage, Func<IReadOnlyList<string>, T> parse, Action<T> options)
    {
        // Numbers in the tables are read by people and pasted into the README: one format everywhere.
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Any(a => a is "--help" or "-h"))
        {
            Console.WriteLine(usage);
            return 0;
        }

        try
        {
            options(parse(args));
            return null;
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            await Console.Error.WriteLineAsync(usage);
            return 2;
        }
    }
}
