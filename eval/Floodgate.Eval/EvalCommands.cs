using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Floodgate.Eval.Corpus;
using Floodgate.Eval.Scoring;

namespace Floodgate.Eval;

/// <summary>`generate` writes a labelled corpus; `score` replays it through Floodgate and prints the tables.</summary>
public static class EvalCommands
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Floodgate's evaluation: a labelled Postfix maillog of legitimate and hijacked accounts, and a scorer over `floodgate replay --json`.");
        root.Subcommands.Add(Generate());
        root.Subcommands.Add(Score());
        return root;
    }

    /// <summary>Generates a corpus and writes DIR/maillog and DIR/labels.json.</summary>
    public static GeneratedCorpus Write(CorpusOptions options, string folder)
    {
        var corpus = CorpusGenerator.Generate(options);
        Directory.CreateDirectory(folder);
        using (var log = new StreamWriter(Path.Combine(folder, "maillog"), append: false, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16))
        {
            MaillogWriter.Write(corpus, log);
        }

        using (var labels = File.Create(Path.Combine(folder, "labels.json")))
        {
            CorpusLabels.From(corpus).Write(labels);
        }

        return corpus;
    }

    /// <summary>Replays <paramref name="log"/> with <paramref name="config"/> and scores its output against the labels.</summary>
    public static async Task<Scorecard> ScoreAsync(CorpusLabels labels, string log, string? config, TextWriter? progress = null, CancellationToken cancel = default)
    {
        var output = Path.Combine(Path.GetTempPath(), $"floodgate-eval-{Environment.ProcessId}-{Guid.NewGuid():N}.jsonl");
        try
        {
            var summary = await ReplayRun.RunAsync(log, config, output, cancel);
            if (progress is not null)
            {
                await progress.WriteLineAsync($"{ReplayRun.NameOf(config)}: {summary}");
            }

            using var reader = new StreamReader(output);
            return Scorer.Score(labels, ReplayOutput.Read(reader, output), ReplayRun.NameOf(config), output);
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static Command Generate()
    {
        var defaults = new CorpusOptions();
        var output = new Option<string>("--out") { Description = "Folder for maillog and labels.json (created)", Required = true };
        var accounts = new Option<int>("--accounts") { Description = "Accounts", DefaultValueFactory = _ => defaults.Accounts };
        var days = new Option<int>("--days") { Description = "Days, from --start", DefaultValueFactory = _ => defaults.Days };
        var seed = new Option<int>("--seed") { Description = "Seed: the same options give the same corpus", DefaultValueFactory = _ => defaults.Seed };
        var start = new Option<string>("--start") { Description = "The first day, a Monday (yyyy-MM-dd)", DefaultValueFactory = _ => defaults.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) };
        var command = new Command("generate", "Write a labelled Postfix maillog: legitimate archetypes, and hijacks that start at labelled times in the last week.")
        {
            output, accounts, days, seed, start,
        };
        command.SetAction(async parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            if (!DateOnly.TryParseExact(parse.GetValue(start), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first))
            {
                await error.WriteLineAsync($"generate: --start {parse.GetValue(start)} is not a date (yyyy-MM-dd)");
                return 2;
            }

            var options = new CorpusOptions { Accounts = parse.GetValue(accounts), Days = parse.GetValue(days), Seed = parse.GetValue(seed), Start = first };
            if (options.Problem() is { } problem)
            {
                await error.WriteLineAsync($"generate: {problem}");
                return 2;
            }

            var timer = Stopwatch.StartNew();
            var folder = parse.GetValue(output)!;
            var corpus = Write(options, folder);
            var spam = corpus.Messages.Count(m => m.Spam);
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"{Path.Combine(folder, "maillog")}: {corpus.Messages.Count:N0} messages ({spam:N0} spam) of {corpus.Accounts.Count} accounts over {options.Days} days, "
                + $"{new FileInfo(Path.Combine(folder, "maillog")).Length / 1_000_000} MB; labels in {Path.Combine(folder, "labels.json")}; {timer.Elapsed.TotalSeconds:0.0} s");
            return 0;
        });
        return command;
    }

    private static Command Score()
    {
        var log = new Option<string>("--log") { Description = "The corpus' maillog", Required = true };
        var labelsFile = new Option<string>("--labels") { Description = "The corpus' labels.json", Required = true };
        var config = new Option<string?>("--config") { Description = "Configuration A (default: the embedded default)" };
        var compare = new Option<string?>("--compare") { Description = "Configuration B, replayed over the same corpus and shown beside A" };
        var replay = new Option<string?>("--replay") { Description = "Score this saved `floodgate replay --json` output as A instead of running the replay" };
        var command = new Command("score", "Replay the corpus through `floodgate replay --json` and print, per hijack and for legitimate mail, what was delivered, contained, suspended and held.")
        {
            log, labelsFile, config, compare, replay,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var labels = CorpusLabels.Read(parse.GetValue(labelsFile)!);
                var cards = new List<Scorecard>();
                if (parse.GetValue(replay) is { } saved)
                {
                    using var reader = new StreamReader(saved);
                    cards.Add(Scorer.Score(labels, ReplayOutput.Read(reader, saved), ReplayRun.NameOf(parse.GetValue(config)), saved));
                }
                else
                {
                    cards.Add(await ScoreAsync(labels, parse.GetValue(log)!, parse.GetValue(config), error, cancel));
                }

                if (parse.GetValue(compare) is { } other)
                {
                    cards.Add(await ScoreAsync(labels, parse.GetValue(log)!, other, error, cancel));
                }

                await parse.InvocationConfiguration.Output.WriteAsync(ScoreTable.Render(labels, cards));
                return 0;
            }
            catch (Exception e) when (e is EvalInputException or IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"score: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
