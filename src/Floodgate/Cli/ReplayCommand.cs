using System.CommandLine;
using Floodgate.Configuration;
using Floodgate.Logs;

namespace Floodgate.Cli;

/// <summary>`floodgate replay`: what Floodgate would have done with a mail server's past logs, and which limits fit its users.</summary>
public static class ReplayCommand
{
    public static Command Build()
    {
        var config = new Option<string?>("--config", "-c") { Description = "Configuration whose limits are replayed (default: $FLOODGATE_CONFIG, else the embedded default)" };
        var format = new Option<string>("--format") { Description = "postfix (syslog or maillog_file) or kerio (mail.log)", DefaultValueFactory = _ => "postfix" };
        format.AcceptOnlyFromAmong("postfix", "kerio");
        var year = new Option<int?>("--year") { Description = "The year of classic syslog timestamps, which have none (default: each file's last-modified year)" };
        var json = new Option<bool>("--json") { Description = "One JSON object per line: every message not accepted, and every suspension" };
        var logs = new Argument<string[]>("log") { Description = "Log files; rotated ones (.1, .2.gz, -20261201) are read oldest first", Arity = ArgumentArity.OneOrMore };
        var command = new Command("replay", "Replay mail server logs through the limits: nothing is sent, written or touched; prints per-account peaks, what would have acted, and suggested limits.")
        {
            config, format, year, json, logs,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            FloodgateOptions options;
            try
            {
                options = ConfigLoader.Load(parse.GetValue(config) ?? Environment.GetEnvironmentVariable("FLOODGATE_CONFIG"));
            }
            catch (ConfigException e)
            {
                await error.WriteLineAsync($"floodgate replay: the configuration cannot be used:{Environment.NewLine}{e.Message}");
                return 2;
            }

            var files = LogFiles.InWrittenOrder(parse.GetValue(logs)!);
            foreach (var missing in files.Where(f => !File.Exists(f)))
            {
                await error.WriteLineAsync($"floodgate replay: {missing}: no such file");
                return 2;
            }

            var replay = new Replay(options);
            var writer = parse.GetValue(json) ? output : null;
            var stats = await LogMessages.ReadAsync(files, parse.GetValue(format) == "kerio", parse.GetValue(year), m => replay.AddAsync(m, writer),
                Console.IsErrorRedirected ? null : error, () => $"{replay.Replayed} messages");
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
