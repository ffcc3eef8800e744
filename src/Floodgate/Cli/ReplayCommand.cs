using System.CommandLine;
using Floodgate.Logs;

namespace Floodgate.Cli;

/// <summary>`floodgate replay`: what Floodgate would have done with a mail server's past logs, and which limits fit its users.</summary>
public static class ReplayCommand
{
    public static Command Build()
    {
        var arguments = new LogCommandArguments("replay", "Configuration whose limits are replayed");
        var json = new Option<bool>("--json") { Description = "One JSON object per line: every message not accepted, and every suspension" };
        var command = new Command("replay", "Replay mail server logs through the limits: nothing is sent, written or touched; prints per-account peaks, what would have acted, and suggested limits.")
        {
            json,
        };
        arguments.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            if (await arguments.ResolveAsync(parse) is not { } resolved)
            {
                return 2;
            }

            var (options, files) = resolved;

            var replay = new Replay(options);
            var writer = parse.GetValue(json) ? output : null;
            var stats = await arguments.ReadAsync(parse, files, m => replay.AddAsync(m, writer), () => $"{replay.Replayed} messages");
            await replay.FinishAsync(writer);
            if (parse.GetValue(json))
            {
                await error.WriteLineAsync($"floodgate replay: {stats.Lines} lines ({stats.Skipped} skipped), {replay.Replayed} messages replayed, {replay.Inbound} inbound and {replay.RefusedByServer} refused by the server left out");
            }
            else
            {
                replay.WriteReport(output, stats);
            }

            return 0;
        });
        return command;
    }
}
