namespace Floodgate.Logs;

/// <summary>
/// An account's busiest stretch in each window (messages and recipients in any window-long interval), computed
/// exactly from its messages of the last day: memory is its messages within the longest window.
/// </summary>
public sealed class PeakTracker
{
    private readonly TimeSpan[] _windows;
    private readonly Queue<(DateTimeOffset At, int Recipients)>[] _inWindow;
    private readonly long[] _messages;
    private readonly long[] _recipients;

    public PeakTracker(IReadOnlyList<TimeSpan> windows)
    {
        _windows = [.. windows];
        _inWindow = [.. windows.Select(_ => new Queue<(DateTimeOffset, int)>())];
        _messages = new long[windows.Count];
        _recipients = new long[windows.Count];
        PeakMessages = new long[windows.Count];
        PeakRecipients = new long[windows.Count];
    }

    public long Messages { get; private set; }

    public long Recipients { get; private set; }

    /// <summary>The most messages in any interval as long as each window.</summary>
    public long[] PeakMessages { get; }

    /// <summary>The most recipients in any interval as long as each window.</summary>
    public long[] PeakRecipients { get; }

    public void Add(DateTimeOffset at, int recipients)
    {
        Messages++;
        Recipients += recipients;
        for (var i = 0; i < _windows.Length; i++)
        {
            var queue = _inWindow[i];
            queue.Enqueue((at, recipients));
            _messages[i]++;
            _recipients[i] += recipients;
            while (queue.Count > 0 && queue.Peek().At <= at - _windows[i])
            {
                var old = queue.Dequeue();
                _messages[i]--;
                _recipients[i] -= old.Recipients;
            }

            PeakMessages[i] = Math.Max(PeakMessages[i], _messages[i]);
            PeakRecipients[i] = Math.Max(PeakRecipients[i], _recipients[i]);
        }
    }
}
