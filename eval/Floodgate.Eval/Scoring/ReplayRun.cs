using System.CommandLine;
using Floodgate.Cli;

namespace Floodgate.Eval.Scoring;

/// <summary>Runs the real `floodgate replay --json` command (the CLI's own command tree, in this process) over a maillog.</summary>
public static class ReplayRun
{
    /// <summary>The name a run without --config is shown under.</summary>
    public const string EmbeddedDefault = "embedded default";

    /// <summary>
    /// Replays <paramref name="log"/> with <paramref name="config"/> (null: what `floodgate replay` takes without
    /// --config, the embedded default unless $FLOODGATE_CONFIG names a file) and writes its JSON lines to
    /// <paramref name="output"/>; returns replay's summary line.
    /// </summary>
    public static async Task<string> RunAsync(string log, string? config, string output, CancellationToken cancel = default)
    {
        string[] args = config is null ? ["replay", "--json", log] : ["replay", "--json", "--config", config, log];
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

    public static string NameOf(string? config) => config is null
        ? Environment.GetEnvironmentVariable("FLOODGATE_CONFIG") is { Length: > 0 } env ? Path.GetFileName(env) : EmbeddedDefault
        : Path.GetFileName(config);
}
