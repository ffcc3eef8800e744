using System.Globalization;

namespace Floodgate.Logs;

/// <summary>
/// Rebuilds messages from Postfix's log, by queue id across interleaved lines: smtpd's client= (and the login),
/// cleanup's message-id=, qmgr's from=/size=/nrcpt=, each delivery agent's to=/status=, smtpd's hold:/reject:, and
/// "removed". A message is given out once it is removed, or once the log has moved <see cref="Settle"/> past its
/// submission (its later lines, retries of a deferred recipient, are then skipped), or at the end, in the order it was
/// submitted; memory is bounded by the messages submitted within <see cref="Settle"/>, and by <see cref="MaxPending"/>.
/// </summary>
public sealed class PostfixLogReader
{
    /// <summary>How long after its last line a message is taken as complete (a deferred message may be retried for days).</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMinutes(10);

    /// <summary>Messages in flight at most; past it the oldest is given out as it is.</summary>
    public const int MaxPending = 200_000;

    private readonly Dictionary<string, (LoggedMessage Message, DateTimeOffset Last)> _pending = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, LoggedMessage Message)> _arrival = new();
    private readonly PriorityQueue<LoggedMessage, (DateTimeOffset, long)> _done = new();
    private long _order;
    private DateTimeOffset _lastScan = DateTimeOffset.MinValue;
    private DateTimeOffset _oldestPending = DateTimeOffset.MaxValue;
    private DateTimeOffset _now = DateTimeOffset.MinValue;
    private int _year;
    private int _lastMonth;
    private int _fileMonth;

    /// <param name="year">The year of classic syslog timestamps, which have none (the file's year, or --year).</param>
    public PostfixLogReader(int year)
    {
        _year = year;
    }

    /// <summary>
    /// The next lines come from a file last written in <paramref name="year"/>, <paramref name="lastWriteMonth"/>: its
    /// classic stamps take that year, or the one before for months after it. Messages carry on across files.
    /// </summary>
    public void StartFile(int year, int lastWriteMonth)
    {
        _year = year;
        _fileMonth = lastWriteMonth;
    }

    /// <summary>Lines read, lines that named nothing Floodgate uses (skipped, never fatal), and messages given out.</summary>
    public LogReadStats Stats { get; } = new();

    /// <summary>Reads one line; returns the messages that are complete by now, oldest submission first.</summary>
    public IEnumerable<LoggedMessage> Read(string line)
    {
        Stats.Lines++;
        if (!SyslogLine.TryParse(line, _year, out var syslog) || !syslog.Program.StartsWith("postfix", StringComparison.Ordinal))
        {
            Stats.Skipped++;
            return [];
        }

        // Classic stamps have no year. With the file's last write known, a month after it is last year's (a mail.log.1
        // written in January holds December's lines); with a year given, a log running from December into January
        // moves on by itself.
        var classic = line[0] is >= 'A' and <= 'Z';
        if (classic && _fileMonth > 0 && syslog.Time.Month > _fileMonth)
        {
            syslog = syslog with { Time = syslog.Time.AddYears(-1) };
        }
        else if (classic && _fileMonth == 0 && syslog.Time.Month < _lastMonth && _lastMonth == 12 && syslog.Time.Month == 1)
        {
            _year++;
            syslog = syslog with { Time = syslog.Time.AddYears(1) };
        }

        _lastMonth = syslog.Time.Month;
        if (syslog.Time > _now)
        {
            _now = syslog.Time;
        }

        if (!Apply(syslog))
        {
            Stats.Skipped++;
        }

        return Due(_now - Settle) ?? (IEnumerable<LoggedMessage>)[];
    }

    /// <summary>Everything still pending, at the end of the input.</summary>
    public IEnumerable<LoggedMessage> Finish() => Due(DateTimeOffset.MaxValue) ?? (IEnumerable<LoggedMessage>)[];

    private bool Apply(SyslogLine line)
    {
        var message = line.Message;
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        if (colon <= 0 || !IsQueueId(message.AsSpan(0, colon)))
        {
            return false;
        }

        var id = message[..colon];
        var rest = message[(colon + 2)..];
        if (rest == "removed")
        {
            if (_pending.Remove(id, out var finished))
            {
                Complete(finished.Message);
            }

            return true;
        }

        var service = line.Service;
        if (!_pending.TryGetValue(id, out var entry))
        {
            // Only smtpd (or pickup, for local submissions) starts a message; a stray later line is skipped.
            if (service is not ("smtpd" or "pickup"))
            {
                return false;
            }

            // Past the bound, the oldest message still pending is given out as it is (arrival order: O(1) per message).
            while (_pending.Count >= MaxPending && _arrival.TryDequeue(out var oldest))
            {
                if (_pending.TryGetValue(oldest.Id, out var candidate) && ReferenceEquals(candidate.Message, oldest.Message))
                {
                    _pending.Remove(oldest.Id);
                    Complete(oldest.Message);
                }
            }

            entry = (new LoggedMessage { QueueId = id, Time = line.Time }, line.Time);
            _arrival.Enqueue((id, entry.Message));
            if (line.Time < _oldestPending)
            {
                _oldestPending = line.Time;
            }
        }

        var m = entry.Message;
        _pending[id] = (m, line.Time);
        switch (service)
        {
            case "smtpd" when rest.StartsWith("client=", StringComparison.Ordinal):
                var client = Field(rest, "client=");
                var open = client?.LastIndexOf('[') ?? -1;
                if (client is not null && open >= 0 && client.EndsWith(']'))
                {
                    m.ClientName = client[..open];
                    m.ClientAddress = client[(open + 1)..^1];
                }

                m.Login = Field(rest, "sasl_username=");
                return true;
            case "smtpd" when rest.StartsWith("hold: ", StringComparison.Ordinal) || rest.StartsWith("reject: ", StringComparison.Ordinal):
                m.Action = rest[..rest.IndexOf(':', StringComparison.Ordinal)];

                // "...; from=<S> to=<R> proto=ESMTP helo=<H>": the client's own text (a quoted recipient, the reason)
                // comes before it, so the envelope is read from the end.
                if (Envelope(rest) is var (sender, to))
                {
                    m.Sender ??= sender;
                    if (to is not null && m.Recipients.All(r => r.Address != to))
                    {
                        m.Recipients.Add(new RecipientOutcome(to));
                    }
                }

                return true;
            case "pickup":
                m.Sender ??= Angle(rest, "from=<");
                return true;
            case "cleanup":
                m.MessageId ??= Angle(rest, "message-id=<");
                return true;
            case "qmgr" when rest.StartsWith("from=<", StringComparison.Ordinal):
                // "from=<S>, size=N, nrcpt=N (queue active)": the sender may hold ", size=", so the numbers are read
                // from the end and the sender is what lies between.
                var sizeAt = rest.LastIndexOf(">, size=", StringComparison.Ordinal);
                var nrcptAt = rest.LastIndexOf(", nrcpt=", StringComparison.Ordinal);
                if (sizeAt < 0)
                {
                    return false;
                }

                m.Sender = rest["from=<".Length..sizeAt];
                if (long.TryParse(Number(rest, sizeAt + ">, size=".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                {
                    m.Size = size;
                }

                if (nrcptAt > sizeAt && int.TryParse(Number(rest, nrcptAt + ", nrcpt=".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                {
                    m.RecipientCount = n;
                }

                return true;
            case "smtp" or "lmtp" or "virtual" or "local" or "relay" or "pipe" or "error" or "discard" when rest.StartsWith("to=<", StringComparison.Ordinal):
                var address = Angle(rest, "to=<")!;
                var status = Field(rest, "status=");
                var code = Field(rest, "dsn=");
                var agent = line.Program[(line.Program.LastIndexOf('/') + 1)..];
                var known = m.Recipients.FindIndex(r => r.Address == address);
                var outcome = new RecipientOutcome(address, status, code, agent);
                if (known >= 0)
                {
                    m.Recipients[known] = outcome;
                }
                else
                {
                    m.Recipients.Add(outcome);
                }

                m.DeliveredBy = agent;
                return true;
            default:
                return false;
        }
    }

    private void Complete(LoggedMessage message) => _done.Enqueue(message, (message.Time, _order++));

    private List<LoggedMessage>? Due(DateTimeOffset before)
    {
        // Once per second of log time (and at the end): messages whose last line is older than the settling time are
        // complete, and the oldest message still pending is found again. Between scans that oldest time only rises,
        // so the one from the last scan is a safe bound.
        var end = before == DateTimeOffset.MaxValue;
        if (end || _now - _lastScan >= TimeSpan.FromSeconds(1))
        {
            _lastScan = _now;
            List<string>? settled = null;
            var oldest = DateTimeOffset.MaxValue;
            foreach (var (id, (message, _)) in _pending)
            {
                // Settled by when it was submitted, not by its last line: a message retried for days (a dead domain)
                // must not hold back, nor keep in memory, everything logged after it. Its later lines are then skipped.
                if (message.Time < before)
                {
                    (settled ??= []).Add(id);
                }
                else if (message.Time < oldest)
                {
                    oldest = message.Time;
                }
            }

            foreach (var id in settled ?? [])
            {
                _pending.Remove(id, out var entry);
                Complete(entry.Message);
            }

            _oldestPending = oldest;
            while (_arrival.TryPeek(out var first) && !(_pending.TryGetValue(first.Id, out var p) && ReferenceEquals(p.Message, first.Message)))
            {
                _arrival.Dequeue();
            }
        }

        // Messages come out in submission order: none before a message still pending that was submitted earlier.
        List<LoggedMessage>? output = null;
        while (_done.TryPeek(out var next, out var key) && key.Item1 <= _oldestPending)
        {
            _done.Dequeue();
            if (next.Sender is not null || next.Action is not null)
            {
                Stats.Messages++;
                (output ??= []).Add(next);
            }
        }

        return output;
    }

    // Postfix's short queue ids are hex; long ones (enable_long_queue_ids) use [0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z].
    private static bool IsQueueId(ReadOnlySpan<char> text)
    {
        if (text.Length < 6 || text.Length > 32 || text.SequenceEqual("NOQUEUE") || text.SequenceEqual("warning"))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string? Field(string text, string name)
    {
        var at = text.IndexOf(name, StringComparison.Ordinal);
        if (at < 0 || (at > 0 && text[at - 1] is not (' ' or ',')))
        {
            return null;
        }

        var start = at + name.Length;
        var end = text.IndexOfAny([',', ' '], start);
        return end < 0 ? text[start..] : text[start..end];
    }

    private static string Number(string text, int at)
    {
        var end = at;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        return text[at..end];
    }

    private static (string? Sender, string? Recipient)? Envelope(string text)
    {
        var proto = text.LastIndexOf("> proto=", StringComparison.Ordinal);
        var end = proto >= 0 ? proto : text.Length - 1;
        var toAt = text.LastIndexOf("> to=<", end, StringComparison.Ordinal);
        var fromAt = text.LastIndexOf("; from=<", toAt < 0 ? end : toAt, StringComparison.Ordinal);
        if (fromAt < 0)
        {
            return null;
        }

        var start = fromAt + "; from=<".Length;
        if (toAt < start)
        {
            var close = text.IndexOf('>', start);
            return (close < 0 ? null : text[start..close], null);
        }

        return (text[start..toAt], text[(toAt + "> to=<".Length)..end]);
    }

    private static string? Angle(string text, string name)
    {
        var at = text.IndexOf(name, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var start = at + name.Length;
        var end = text.IndexOf('>', start);
        return end < 0 ? null : text[start..end];
    }
}
