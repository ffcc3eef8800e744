using System.Globalization;

namespace Floodgate.Logs;

/// <summary>
/// Reads Kerio Connect's mail.log: each "Recv:" line is one submitted message (Queue-ID, Service, From, one or more
/// To, Size, Sender-Host, User — the login —, Subject, Msg-Id); "Sent:" lines give each recipient's outcome. A
/// message is given out at its Recv line: the log names the login there, and Kerio may take minutes to deliver.
/// </summary>
public sealed class KerioLogReader
{
    // The keys Kerio writes, so that ", " inside a Subject is not taken for the next field.
    private static readonly string[] Keys = ["Queue-ID", "Service", "From", "To", "Size", "Sender-Host", "User", "SSL", "Recipient", "Result", "Status"];

    public LogReadStats Stats { get; } = new();

    /// <summary>Reads one line; returns the message it submits, if it is a Recv line.</summary>
    public IEnumerable<LoggedMessage> Read(string line)
    {
        Stats.Lines++;
        // A Recv line without its From (a file cut mid-line) is not a whole submission.
        if (!TryParse(line, out var time, out var kind, out var fields) || kind != "Recv" || !fields.TryGetValue("Queue-ID", out var ids) || ids.Count == 0
            || !fields.ContainsKey("From"))
        {
            if (kind != "Sent")
            {
                Stats.Skipped++;
            }

            return [];
        }

        var message = new LoggedMessage
        {
            QueueId = ids[^1],
            Time = time,
            Login = One(fields, "User") is { Length: > 0 } user ? user : null,
            Sender = Unbracket(One(fields, "From")) ?? "",
            ClientAddress = One(fields, "Sender-Host"),
            Subject = One(fields, "Subject"),
            MessageId = Unbracket(One(fields, "Msg-Id")),
            Size = long.TryParse(One(fields, "Size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : 0,
        };
        foreach (var to in fields.GetValueOrDefault("To") ?? [])
        {
            // One To: field may carry several recipients, separated by commas or spaces.
            foreach (var address in to.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (Unbracket(address) is { Length: > 0 } a)
                {
                    message.Recipients.Add(new RecipientOutcome(a));
                }
            }
        }

        Stats.Messages++;
        return [message];
    }

    /// <summary>Kerio's log has nothing held back: every message was given out at its Recv line.</summary>
    public static IEnumerable<LoggedMessage> Finish() => [];

    // Kerio writes each field once; should one appear twice, the last one (nearest the trusted end) is taken.
    private static string? One(Dictionary<string, List<string>> fields, string key) =>
        fields.TryGetValue(key, out var values) && values.Count > 0 ? values[^1] : null;

    // Which characters lie outside <...> addresses; a quoted local part may hold '>' and ',' of its own.
    private static bool[] OutsideAddresses(string text)
    {
        var outside = new bool[text.Length];
        var inAddress = false;
        var inQuote = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            outside[i] = !inAddress;
            if (!inAddress)
            {
                inAddress = c == '<';
            }
            else if (inQuote)
            {
                if (c == '\\')
                {
                    i++;
                    if (i < text.Length)
                    {
                        outside[i] = false;
                    }
                }
                else if (c == '"')
                {
                    inQuote = false;
                }
            }
            else if (c == '"')
            {
                inQuote = true;
            }
            else if (c == '>')
            {
                inAddress = false;
            }
        }

        return outside;
    }

    private static string? Unbracket(string? text)
    {
        if (text is null)
        {
            return null;
        }

        text = text.Trim();
        return text.StartsWith('<') && text.EndsWith('>') ? text[1..^1].Trim() : text;
    }

    // "[25/Jun/2014 10:39:19] Recv: Key: value, Key: value, ..." (Kerio writes the server's local time, read as UTC).
    private static bool TryParse(string line, out DateTimeOffset time, out string? kind, out Dictionary<string, List<string>> fields)
    {
        time = default;
        kind = null;
        fields = [];
        var close = line.IndexOf(']', StringComparison.Ordinal);
        if (!line.StartsWith('[') || close < 0
            || !DateTimeOffset.TryParseExact(line.AsSpan(1, close - 1).Trim(), "d/MMM/yyyy HH:mm:ss", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal, out time))
        {
            return false;
        }

        var body = line[(close + 1)..].TrimStart();
        var colon = body.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        kind = body[..colon].Trim();
        var rest = body[(colon + 1)..];

        // The Subject is the sender's text and may hold ", User: someone": only fields before it are believed, and it
        // runs up to the last ", Msg-Id:".
        var subjectAt = rest.IndexOf(", Subject:", StringComparison.Ordinal);
        if (subjectAt >= 0)
        {
            var tail = rest[(subjectAt + ", Subject:".Length)..];
            var msgIdAt = tail.LastIndexOf(", Msg-Id:", StringComparison.Ordinal);
            fields["Subject"] = [(msgIdAt < 0 ? tail : tail[..msgIdAt]).Trim()];
            if (msgIdAt >= 0)
            {
                fields["Msg-Id"] = [tail[(msgIdAt + ", Msg-Id:".Length)..].Trim()];
            }

            rest = rest[..subjectAt];
        }

        // Find every ", Key:" (or the leading "Key:") outside the addresses and take the text up to the next one as its
        // value. An address is the sender's text: <"x, User: ceo@domain">, quotes and all, names no field.
        var outside = OutsideAddresses(rest);
        var starts = new List<(int At, int ValueAt, string Key)>();
        foreach (var key in Keys)
        {
            var from = 0;
            while ((from = rest.IndexOf(key + ":", from, StringComparison.Ordinal)) >= 0)
            {
                var before = rest.AsSpan(0, from).TrimEnd();
                if (outside[from] && (before.Length == 0 || before[^1] == ','))
                {
                    starts.Add((from, from + key.Length + 1, key));
                }

                from += key.Length + 1;
            }
        }

        starts.Sort((a, b) => a.At.CompareTo(b.At));
        for (var i = 0; i < starts.Count; i++)
        {
            var end = i + 1 < starts.Count ? starts[i + 1].At : rest.Length;
            var value = rest[starts[i].ValueAt..end].Trim().TrimEnd(',').Trim();
            if (!fields.TryGetValue(starts[i].Key, out var list))
            {
                fields[starts[i].Key] = list = [];
            }

            list.Add(value);
        }

        return fields.ContainsKey("Queue-ID");
    }
}
