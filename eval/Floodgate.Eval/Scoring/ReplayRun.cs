using System.CommandLine;
using Floodgate.Cli;
using Floodgate.Configuration;

namespace Floodgate.Eval.Scoring;

/// <summary>Runs the real `floodgate replay --json` command (the CLI's own command tree, in this process) over a maillog.</summary>
public static class ReplayRun
{
    /// <summary>The name a run without --config is shown under.</summary>
    public const string EmbeddedDefault = "embedded default";

    /// <summary>
    /// Replays <paramref name="log"/> with <paramref name="config"/> (null: the embedded default, whatever
    /// $FLOODGATE_CONFIG says) and writes its JSON lines to <paramref name="output"/>; returns replay's summary line.
    /// </summary>
    public static async Task<string> RunAsync(string log, string? config, string output, CancellationToken cancel = default)
    {
        var embedded = config is null ? Path.Combine(Path.GetTempPath(), $"floodgate-eval-default-{Guid.NewGuid():N}.yml") : null;
        try
        {
            if (embedded is not null)
            {
                await File.WriteAllTextAsync(embedded, ConfigLoader.EmbeddedDefault(), cancel);
            }

            return await RunAsync(["replay", "--json", "--config", config ?? embedded!, log], output, cancel);
        }
        finally
        {
            if (embedded is not null)
            {
                File.Delete(embedded);
            }
        }
    }

    private static async Task<string> RunAsync(string[] args, string output, CancellationToken cancel)
    {
        using var error = new StringWriter();
        int exit;
        await using (var json = new StreamWriter(output))
        {
            exit = await FloodgateCommands.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = json, Error = error }, cancel);
        }

        var said = error.ToString().Split('\n', '\r').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (exit != 0)
        {
            throw new EvalInputException($"floodgate {string.Join(' ', args)} failed ({exit}): {string.Join(Environment.NewLine, said)}");
        }

        return said.LastOrDefault() ?? "";
    }

    public static string NameOf(string? config) => config is null ? EmbeddedDefault : Path.GetFileName(config);
}
