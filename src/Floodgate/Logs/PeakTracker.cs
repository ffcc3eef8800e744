namespace Floodgate.Logs;

/// <summary>
/// An account's busiest stretch in each window (messages, recipients and KiB in any window-long interval), computed
/// exactly from its messages of the last day: memory is its messages within the longest window.
/// </summary>
public sealed class PeakTracker
{
    private readonly TimeSpan[] _windows;
    private readonly Queue<(DateTimeOffset At, int Recipients, long KiB)>[] _inWindow;
    private readonly long[] _messages;
    private readonly long[] _recipients;
    private readonly long[] _kib;

    public PeakTracker(IReadOnlyList<TimeSpan> windows)
    {
        _windows = [.. windows];
        _inWindow = [.. windows.Select(_ => new Queue<(DateTimeOffset, int, long)>())];
        _messages = new long[windows.Count];
        _recipients = new long[windows.Count];
        _kib = new long[windows.Count];
        PeakKiB = new long[windows.Count];
        PeakMessages = new long[windows.Count];
        PeakRecipients = new long[windows.Count];
    }

    public long Messages { get; private set; }

    public long Recipients { get; private set; }

    /// <summary>The most messages in any interval as long as each window.</summary>
    public long[] PeakMessages { get; }

    /// <summary>The most recipients in any interval as long as each window.</summary>
    public long[] PeakRecipients { get; }

    /// <summary>The most KiB (each message rounded up, as a bytes limit counts) in any interval as long as each window.</summary>
    public long[] PeakKiB { get; }

    /// <summary>
    /// The peaks of the unit <paramref name="unit"/> counts; for unique, external and failed recipients, the recipient
    /// peaks (an upper bound of each: a suggestion from them errs on the generous side).
    /// </summary>
    public long[] PeaksOf(Engine.LimitUnit unit) => unit switch
    {
        Engine.LimitUnit.Messages => PeakMessages,
        Engine.LimitUnit.Bytes => PeakKiB,
        _ => PeakRecipients,
    };

    public void Add(DateTimeOffset at, int recipients, long size = 0)
    {
        var kib = Engine.LimitRule.KiBOf(size);
        Messages++;
        Recipients += recipients;
        for (var i = 0; i < _windows.Length; i++)
        {
            var queue = _inWindow[i];
            queue.Enqueue((at, recipients, kib));
            _messages[i]++;
            _recipients[i] += recipients;
            _kib[i] += kib;
            while (queue.Count > 0 && queue.Peek().At <= at - _windows[i])
            {
                var old = queue.Dequeue();
                _messages[i]--;
                _recipients[i] -= old.Recipients;
                _kib[i] -= old.KiB;
            }

            PeakMessages[i] = Math.Max(PeakMessages[i], _messages[i]);
            PeakRecipients[i] = Math.Max(PeakRecipients[i], _recipients[i]);
            PeakKiB[i] = Math.Max(PeakKiB[i], _kib[i]);
        }
    }
}
