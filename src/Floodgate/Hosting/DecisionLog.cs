using System.Buffers;
using System.Globalization;
using System.Text;
using Floodgate.Engine;

namespace Floodgate.Hosting;

/// <summary>
/// One logfmt line per decision (Spamhaus: log the authenticated account of every message), formatted straight into
/// a shared UTF-8 buffer and written by a background loop, so a busy listener neither allocates nor waits on the disk.
/// </summary>
public sealed class DecisionLog : IAsyncDisposable
{
    private const int FlushBytes = 64 * 1024;
    private const int MaxPendingBytes = 8 * 1024 * 1024;
    private const int MaxFieldChars = 512;

    private readonly Stream? _stream;
    private readonly bool _ownsStream;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task? _writer;
    private ArrayBufferWriter<byte> _pending = new(FlushBytes * 2);
    private ArrayBufferWriter<byte> _spare = new(FlushBytes * 2);
    private long _dropped;

    private DecisionLog(Stream? stream, bool ownsStream)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        if (stream is not null)
        {
            _writer = Task.Run(WriteLoopAsync);
        }
    }

    /// <summary>Opens "stdout", "none" or a file path (appended to).</summary>
    public static DecisionLog Open(string target) => target switch
    {
        "none" => new DecisionLog(null, false),
        "stdout" => new DecisionLog(Console.OpenStandardOutput(), false),
        // Owner and group only: the lines name every account and sender.
        _ => new DecisionLog(new FileStream(target, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
        }), true),
    };

    /// <summary>A log writing to a stream the caller owns (tests).</summary>
    public static DecisionLog To(Stream stream) => new(stream, false);

    /// <summary>Lines not written because the output could not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Write(string listener, in Submission submission, in Decision decision, ReadOnlySpan<long> counts,
        RuleSet rules, string state, string action) =>
        Write(listener, submission, decision, counts, rules, state, Encoding.UTF8.GetBytes(action));

    /// <summary>Logs one decision; <paramref name="action"/> is the answer's action as sent (UTF-8).</summary>
    public void Write(string listener, in Submission submission, in Decision decision, ReadOnlySpan<long> counts,
        RuleSet rules, string state, ReadOnlySpan<byte> action, ReadOnlySpan<byte> queueId = default)
    {
        if (_stream is null)
        {
            return;
        }

        // Every field is cut to MaxFieldChars, so a line's size is bounded whatever a client sends.
        var budget = 384 + (rules.Rules.Count * 64) + (14 * ((MaxFieldChars * 3) + 32)) + (2 * action.Length);
        lock (_lock)
        {
            if (_pending.WrittenCount > MaxPendingBytes)
            {
                _dropped++;
                return;
            }

            var line = new LineWriter(_pending.GetSpan(budget));
            line.Raw(submission.Time.UtcDateTime, listener);
            line.Field(" verdict=", ScopeNames.Of(decision.Verdict));
            line.Field(" rule=", decision.Rule?.Name ?? "-");
            line.Field(" account=", submission.Account ?? "-");
            line.Field(" sender=", submission.Sender is null ? "-" : submission.Sender.Length == 0 ? "<>" : submission.Sender);
            line.Number(" rcpts=", submission.RecipientCount);
            line.Number(" size=", submission.Size);
            line.Field(" client=", submission.ClientAddress ?? "-");
            if (!submission.HasLogin)
            {
                line.Field(" login=", submission.Trust == ClientTrust.Trusted ? "none-trusted" : "none-untrusted");
            }

            if (submission.QueueId is { } id)
            {
                line.Field(" queue_id=", id);
            }
            else if (!queueId.IsEmpty)
            {
                line.Utf8Token(" queue_id=", queueId);
            }

            line.Field(" state=", state);
            line.Counters(rules, counts);
            if (decision.IsObserved)
            {
                // Observe mode answered accept: what enforcing would have answered, for grep and for replaying a trial.
                line.Field(" mode=", "observe");
                line.Field(" would_have=", ScopeNames.Of(decision.Observed));
            }

            if (decision.Verdict != Verdict.Accept || decision.Cause == DecisionCause.Exempt || decision.IsObserved)
            {
                line.Field(" cause=", CauseName(decision.Cause));
                line.Reason(decision);
                line.Utf8Field(" action=", action);
            }

            line.End();
            _pending.Advance(line.Length);
            if (_pending.WrittenCount >= FlushBytes && _signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_writer is not null)
        {
            await _writer;
        }

        if (_ownsStream && _stream is not null)
        {
            await _stream.DisposeAsync();
        }

        _stop.Dispose();
        _signal.Dispose();
        _writeGate.Dispose();
    }

    private static string CauseName(DecisionCause cause) => cause switch
    {
        DecisionCause.Exempt => "exempt",
        DecisionCause.LimitExceeded => "limit",
        DecisionCause.Suspended => "suspended",
        DecisionCause.StoreUnavailable => "store_unavailable",
        DecisionCause.Failed => "failed",
        DecisionCause.Probation => "probation",
        DecisionCause.Behaviour => "behaviour",
        _ => "within_limits",
    };

    /// <summary>Writes every line logged so far (the background loop does this every 200 ms).</summary>
    public async Task FlushAsync()
    {
        if (_stream is null)
        {
            return;
        }

        await _writeGate.WaitAsync();
        try
        {
            ArrayBufferWriter<byte> full;
            lock (_lock)
            {
                full = _pending;
                _pending = _spare;
                _spare = full;
            }

            try
            {
                if (full.WrittenCount > 0)
                {
                    await _stream.WriteAsync(full.WrittenMemory);
                    await _stream.FlushAsync();
                }
            }
            catch (IOException)
            {
                // stdout closed or disk full: decisions go on; the lines are lost, which Dropped counts.
                Interlocked.Add(ref _dropped, 1);
            }

            full.ResetWrittenCount();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task WriteLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(TimeSpan.FromMilliseconds(200), _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            await FlushAsync();
        }

        var dropped = Dropped;
        if (dropped > 0)
        {
            await _stream!.WriteAsync(Encoding.UTF8.GetBytes($"decision-log dropped={dropped} (output too slow)\n"));
            await _stream.FlushAsync();
        }
    }

    private ref struct LineWriter(Span<byte> span)
    {
        private readonly Span<byte> _span = span;

        public int Length { get; private set; }

        public void Raw(DateTime time, string listener)
        {
            time.TryFormat(_span, out var n, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            Length = n;
            Append(" decision listener=");
            Append(listener);
        }

        public void Field(string name, string value)
        {
            Append(name);
            if (value.Length > MaxFieldChars)
            {
                value = string.Concat(value.AsSpan(0, MaxFieldChars - 3), "...");
            }

            var quote = value.Length == 0 || value.AsSpan().IndexOfAny(" \"=\\") >= 0 || value.AsSpan().IndexOfAny(EchoedText.Controls) >= 0;
            if (!quote)
            {
                Append(value);
                return;
            }

            _span[Length++] = (byte)'"';
            Escaped(value);
            _span[Length++] = (byte)'"';
        }

        /// <summary>A value that is normally one plain word (a queue id): written as it is, quoted only when it is not.</summary>
        public void Utf8Token(string name, ReadOnlySpan<byte> value)
        {
            foreach (var b in value)
            {
                if (b is <= 32 or >= 0x7F or (byte)'"' or (byte)'=' or (byte)'\\')
                {
                    Utf8Field(name, value);
                    return;
                }
            }

            Append(name);
            value.CopyTo(_span[Length..]);
            Length += value.Length;
        }

        public void Utf8Field(string name, ReadOnlySpan<byte> value)
        {
            Append(name);
            _span[Length++] = (byte)'"';
            foreach (var b in value)
            {
                if (b is (byte)'"' or (byte)'\\')
                {
                    _span[Length++] = (byte)'\\';
                }

                _span[Length++] = b is < 32 or 0x7F ? (byte)'?' : b;
            }

            _span[Length++] = (byte)'"';
        }

        private void Escaped(string value)
        {
            if (value.Length > MaxFieldChars)
            {
                value = string.Concat(value.AsSpan(0, MaxFieldChars - 3), "...");
            }

            var text = value.AsSpan();
            while (true)
            {
                var quote = text.IndexOfAny("\"\\");
                Length += EchoedText.WriteUtf8(quote < 0 ? text : text[..quote], _span[Length..]);
                if (quote < 0)
                {
                    return;
                }

                _span[Length++] = (byte)'\\';
                _span[Length++] = (byte)text[quote];
                text = text[(quote + 1)..];
            }
        }

        private void Digits(long value)
        {
            value.TryFormat(_span[Length..], out var n, provider: CultureInfo.InvariantCulture);
            Length += n;
        }

        // The reason, written straight from the decision's parts: a flood of refusals formats no strings.
        public void Reason(in Decision decision)
        {
            // A failed-recipients limit's sentence is its own (it counts outcomes, not what the message adds).
            if (decision.Cause != DecisionCause.LimitExceeded || decision.Rule is not { } rule || decision.Identity is not { } identity
                || rule.Unit == LimitUnit.FailedRecipients)
            {
                Field(" reason=", decision.Reason);
                return;
            }

            Append(" reason=\"");
            if (decision.IsObserved)
            {
                Append("observe mode, not enforced: ");
                Append(ScopeNames.WouldHave(decision.Observed));
                Append(": ");
            }

            Escaped(ScopeNames.Of(identity.Scope));
            _span[Length++] = (byte)':';
            Escaped(identity.Key);
            Append(" has sent ");
            Digits(decision.Count);
            Append(" of ");
            Digits(decision.Max);
            _span[Length++] = (byte)' ';
            Append(rule.UnitText);
            Append(" allowed per ");
            Append(rule.WindowText);
            Append(" and this message adds ");
            Digits(decision.Units);
            Append(" (rule ");
            Escaped(rule.Name);
            _span[Length++] = (byte)')';
            if (decision.Suspension is { } suspension)
            {
                Append("; ");
                Escaped(ScopeNames.Of(suspension.Identity.Scope));
                _span[Length++] = (byte)':';
                Escaped(suspension.Identity.Key);
                Append(decision.IsObserved ? " would have been suspended" : " suspended");
            }

            _span[Length++] = (byte)'"';
        }

        public void Number(string name, long value)
        {
            Append(name);
            value.TryFormat(_span[Length..], out var n, provider: CultureInfo.InvariantCulture);
            Length += n;
        }

        public void Counters(RuleSet rules, ReadOnlySpan<long> counts)
        {
            Append(" counters=");
            var any = false;
            for (var i = 0; i < rules.Rules.Count && i < counts.Length; i++)
            {
                if (counts[i] < 0)
                {
                    continue;
                }

                if (any)
                {
                    _span[Length++] = (byte)',';
                }

                any = true;
                Append(rules.Rules[i].Name);
                _span[Length++] = (byte)':';
                counts[i].TryFormat(_span[Length..], out var n, provider: CultureInfo.InvariantCulture);
                Length += n;
                _span[Length++] = (byte)'/';
                rules.Rules[i].Max.TryFormat(_span[Length..], out n, provider: CultureInfo.InvariantCulture);
                Length += n;
            }

            if (!any)
            {
                _span[Length++] = (byte)'-';
            }
        }

        public void End() => _span[Length++] = (byte)'\n';

        private void Append(string text) => Length += Encoding.UTF8.GetBytes(text, _span[Length..]);
    }
}
