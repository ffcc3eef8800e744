using System.CommandLine;
using Floodgate.Configuration;
using Floodgate.Logs;

namespace Floodgate.Cli;

/// <summary>
/// What the commands that read past mail server logs (`replay`, `learn`) take alike: a configuration, the log format
/// and year, and the log files; and how they load the one and check the others, with the same errors.
/// </summary>
internal sealed class LogCommandArguments
{
    private readonly string _verb;
    private readonly Option<string?> _config;
    private readonly Option<string> _format = new("--format") { Description = "postfix (syslog or maillog_file) or kerio (mail.log)", DefaultValueFactory = _ => "postfix" };
    private readonly Option<int?> _year = new("--year") { Description = "The year of classic syslog timestamps, which have none (default: each file's last-modified year)" };
    private readonly Argument<string[]> _logs = new("log") { Description = "Log files; rotated ones (.1, .2.gz, -20261201) are read oldest first", Arity = ArgumentArity.OneOrMore };

    public LogCommandArguments(string verb, string configDescription)
    {
        _verb = verb;
        _config = new Option<string?>("--config", "-c") { Description = configDescription + " (default: $FLOODGATE_CONFIG, else the embedded default)" };
        _format.AcceptOnlyFromAmong("postfix", "kerio");
    }

    /// <summary>Adds the options and the log argument to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_config);
        command.Options.Add(_format);
        command.Options.Add(_year);
        command.Arguments.Add(_logs);
    }

    /// <summary>The configuration and the files in written order; null (and the error written) when either cannot be used.</summary>
    public async Task<(FloodgateOptions Options, IReadOnlyList<string> Files)?> ResolveAsync(ParseResult parse)
    {
        var error = parse.InvocationConfiguration.Error;
        FloodgateOptions options;
        try
        {
            options = ConfigLoader.Load(parse.GetValue(_config) ?? Environment.GetEnvironmentVariable("FLOODGATE_CONFIG"));
        }
        catch (ConfigException e)
        {
            await error.WriteLineAsync($"floodgate {_verb}: the configuration cannot be used:{Environment.NewLine}{e.Message}");
            return null;
        }

        var files = LogFiles.InWrittenOrder(parse.GetValue(_logs)!);
        foreach (var missing in files.Where(f => !File.Exists(f)))
        {
            await error.WriteLineAsync($"floodgate {_verb}: {missing}: no such file");
            return null;
        }

        return (options, files);
    }

    /// <summary>Reads every message of <paramref name="files"/> in the chosen format, with progress on a terminal.</summary>
    public Task<LogReadStats> ReadAsync(ParseResult parse, IReadOnlyList<string> files, Func<LoggedMessage, Task> each, Func<string> progress) =>
        LogMessages.ReadAsync(files, parse.GetValue(_format) == "kerio", parse.GetValue(_year), each,
            Console.IsErrorRedirected ? null : parse.InvocationConfiguration.Error, progress);
}
