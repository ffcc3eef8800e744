using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Floodgate.Eval.Scoring;

/// <summary>
/// Reads `floodgate replay --json` output line by line and checks each line against the contract: a JSON object with
/// time and account, and either a queue id with a verdict (defer, hold, reject) and a cause, or an event. Every line is
/// bounded in length; anything else is an <see cref="EvalInputException"/> naming the line.
/// </summary>
public static class ReplayOutput
{
    /// <summary>The longest line taken (a cause quotes a login and a rule; nothing legitimate comes close).</summary>
    public const int MaxLineChars = 64 * 1024;

    public static IEnumerable<ReplayLine> Read(TextReader reader, string source)
    {
        foreach (var (number, text) in Lines(reader, source))
        {
            if (text.Length == 0)
            {
                continue;
            }

            yield return Parse(number, text, source);
        }
    }

    private static ReplayLine Parse(int number, string text, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new EvalInputException($"{source}:{number}: not JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new EvalInputException($"{source}:{number}: not a JSON object");
            }

            var timeText = Text(root, "time", number, source) ?? throw Missing("time", number, source);
            if (!DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                throw new EvalInputException($"{source}:{number}: time {timeText} is not a time");
            }

            var account = Text(root, "account", number, source) ?? throw Missing("account", number, source);
            var cause = Text(root, "cause", number, source);
            var @event = Text(root, "event", number, source);
            if (@event is not null)
            {
                return new ReplayLine(number, time, account, null, null, cause, null, @event);
            }

            var queueId = Text(root, "queue_id", number, source) ?? throw Missing("queue_id", number, source);
            var verdict = Text(root, "verdict", number, source) ?? throw Missing("verdict", number, source);
            if (verdict is not ("defer" or "hold" or "reject"))
            {
                throw new EvalInputException($"{source}:{number}: verdict {verdict} is not defer, hold or reject");
            }

            return new ReplayLine(number, time, account, queueId, verdict, cause ?? throw Missing("cause", number, source), Text(root, "rule", number, source), null);
        }
    }

    private static string? Text(JsonElement root, string name, int number, string source)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new EvalInputException($"{source}:{number}: {name} is not a string");
    }

    private static EvalInputException Missing(string name, int number, string source) => new($"{source}:{number}: no {name}");

    private static IEnumerable<(int Number, string Text)> Lines(TextReader reader, string source)
    {
        var buffer = new char[8192];
        var line = new StringBuilder();
        var number = 0;
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == '\n')
                {
                    number++;
                    yield return (number, line.ToString().TrimEnd('\r'));
                    line.Clear();
                }
                else if (line.Length >= MaxLineChars)
                {
                    throw new EvalInputException($"{source}:{number + 1}: longer than {MaxLineChars} characters");
                }
                else
                {
                    line.Append(buffer[i]);
                }
            }
        }

        if (line.Length > 0)
        {
            yield return (number + 1, line.ToString());
        }
    }
}
