using System.Collections.Concurrent;

namespace Floodgate.Policy;

/// <summary>
/// Closes connections that have been idle longer than the timeout: one timer checks every watched connection a few
/// times per timeout, so a read costs a timestamp instead of a timer of its own.
/// </summary>
internal sealed class IdleWatch : IDisposable
{
    private readonly ConcurrentDictionary<Watched, byte> _watched = new();
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;

    public IdleWatch(TimeSpan timeout, TimeProvider time)
    {
        _timeout = timeout;
        _time = time;
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 5));
        _timer = time.CreateTimer(_ => Check(), null, period, period);
    }

    /// <summary>Starts watching a connection; <paramref name="cancel"/> is cancelled when it has been idle too long.</summary>
    public Watched Watch(CancellationTokenSource cancel)
    {
        var watched = new Watched(this, cancel);
        _watched[watched] = 0;
        return watched;
    }

    public void Dispose() => _timer.Dispose();

    private void Check()
    {
        var now = _time.GetTimestamp();
        foreach (var watched in _watched.Keys)
        {
            if (_time.GetElapsedTime(Volatile.Read(ref watched.LastActivity), now) > _timeout)
            {
                watched.TimedOut = true;
                watched.Cancel.Cancel();
            }
        }
    }

    /// <summary>One watched connection.</summary>
    public sealed class Watched(IdleWatch watch, CancellationTokenSource cancel) : IDisposable
    {
        internal long LastActivity = watch._time.GetTimestamp();

        internal CancellationTokenSource Cancel { get; } = cancel;

        /// <summary>True when the connection was cancelled for being idle.</summary>
        public bool TimedOut { get; internal set; }

        /// <summary>Records activity now.</summary>
        public void Touch() => Volatile.Write(ref LastActivity, watch._time.GetTimestamp());

        public void Dispose() => watch._watched.TryRemove(this, out _);
    }
}
