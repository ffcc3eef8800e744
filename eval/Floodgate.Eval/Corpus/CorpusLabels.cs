using System.Text.Json;
using System.Text.Json.Serialization;

namespace Floodgate.Eval.Corpus;

/// <summary>
/// The truth about a generated maillog, as JSON: per account its archetype, per queue id whether it is spam. The
/// scorer reads it back and checks it (known archetypes, unique accounts and queue ids, every message's account listed).
/// </summary>
public sealed class CorpusLabels
{
    public const string CurrentFormat = "floodgate-eval-labels/1";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string Format { get; init; } = CurrentFormat;

    /// <summary>Days the corpus covers, and the options it was made with (for the record).</summary>
    public int Days { get; init; }

    public int Seed { get; init; }

    public required IReadOnlyList<LabelledAccount> Accounts { get; init; }

    public required IReadOnlyList<LabelledMessage> Messages { get; init; }

    public static CorpusLabels From(GeneratedCorpus corpus) => new()
    {
        Days = corpus.Options.Days,
        Seed = corpus.Options.Seed,
        Accounts = [.. corpus.Accounts.Select(a => new LabelledAccount(a.Login, Archetypes.Name(a.Archetype), Archetypes.Name(a.Pattern), a.HijackStart, a.LegitimateDays(corpus.Options)))],
        Messages = [.. corpus.Messages.Select(m => new LabelledMessage(m.QueueId, corpus.Accounts[m.Account].Login, m.Time, m.Recipients.Length, m.Spam))],
    };

    public void Write(Stream output)
    {
        // One message per line: a labels file of 200,000 messages stays greppable.
        using var writer = new StreamWriter(output, leaveOpen: true);
        writer.Write($"{{\"format\":{JsonSerializer.Serialize(Format)},\"days\":{Days},\"seed\":{Seed},\n\"accounts\":[\n");
        for (var i = 0; i < Accounts.Count; i++)
        {
            writer.Write(JsonSerializer.Serialize(Accounts[i], Json));
            writer.Write(i + 1 < Accounts.Count ? ",\n" : "\n");
        }

        writer.Write("],\n\"messages\":[\n");
        for (var i = 0; i < Messages.Count; i++)
        {
            writer.Write(JsonSerializer.Serialize(Messages[i], Json));
            writer.Write(i + 1 < Messages.Count ? ",\n" : "\n");
        }

        writer.Write("]}\n");
    }

    /// <summary>Reads and checks a labels file; <see cref="EvalInputException"/> says what is wrong with it.</summary>
    public static CorpusLabels Read(string path)
    {
        CorpusLabels? labels;
        try
        {
            using var file = File.OpenRead(path);
            labels = JsonSerializer.Deserialize<CorpusLabels>(file, Json);
        }
        catch (JsonException e)
        {
            throw new EvalInputException($"{path}: not a labels file: {e.Message}");
        }
        catch (IOException e)
        {
            throw new EvalInputException($"{path}: {e.Message}");
        }

        if (labels is null || labels.Format != CurrentFormat)
        {
            throw new EvalInputException($"{path}: not a labels file of format {CurrentFormat} (found {labels?.Format ?? "null"})");
        }

        labels.Check(path);
        return labels;
    }

    private void Check(string path)
    {
        var accounts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in Accounts ?? throw new EvalInputException($"{path}: no accounts"))
        {
            if (a?.Account is null || !accounts.Add(a.Account))
            {
                throw new EvalInputException($"{path}: account {a?.Account ?? "null"} is listed twice or has no name");
            }

            if (!Archetypes.TryParse(a.Archetype ?? "", out var archetype) || !Archetypes.TryParse(a.Pattern ?? "", out _))
            {
                throw new EvalInputException($"{path}: account {a.Account}: unknown archetype {a.Archetype} or pattern {a.Pattern}");
            }

            if (Archetypes.IsHijack(archetype) != a.HijackStart.HasValue)
            {
                throw new EvalInputException($"{path}: account {a.Account}: a hijack archetype needs a hijack_start, and only a hijack has one");
            }
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in Messages ?? throw new EvalInputException($"{path}: no messages"))
        {
            if (m?.QueueId is null || !ids.Add(m.QueueId))
            {
                throw new EvalInputException($"{path}: queue id {m?.QueueId ?? "null"} is listed twice or missing");
            }

            if (m.Account is null || !accounts.Contains(m.Account))
            {
                throw new EvalInputException($"{path}: message {m.QueueId}: account {m.Account ?? "null"} is not among the accounts");
            }
        }
    }
}
