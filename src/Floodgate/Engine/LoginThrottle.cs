using System.Collections.Concurrent;
using System.Net;

namespace Floodgate.Engine;

/// <summary>
/// Failed logins per client (IPv6 per /64, see <see cref="ClientBlock"/>) within a window. An attempt is reserved
/// before the password is checked, so parallel guesses from one client cannot all slip past the limit while the slow
/// hash runs; a right password gives its reservation back.
/// </summary>
public sealed class LoginThrottle
{
    // Past this many tracked clients, windows that are over are forgotten: bounded memory under a spread-out attack.
    private const int PruneAbove = 100_000;

    private readonly ConcurrentDictionary<IPAddress, Tally> _tallies = new();
    private readonly int _maxFailures;
    private readonly TimeSpan _window;
    private readonly TimeProvider _time;

    public LoginThrottle(int maxFailures, TimeSpan window, TimeProvider? time = null)
    {
        _maxFailures = maxFailures;
        _window = window;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Reserves one attempt for <paramref name="client"/>: false (check nothing) when its failures and attempts in
    /// flight already reach the limit for the current window.
    /// </summary>
    public bool TryBegin(IPAddress client)
    {
        var now = _time.GetUtcNow();
        var tally = _tallies.GetOrAdd(ClientBlock.Of(client), static (_, at) => new Tally(at), now);
        lock (tally)
        {
            if (now - tally.Since >= _window)
            {
                tally.Since = now;
                tally.Count = 0;
            }

            if (tally.Count >= _maxFailures)
            {
                return false;
            }

            tally.Count++;
        }

        if (_tallies.Count > PruneAbove)
        {
            Prune(now);
        }

        return true;
    }

    /// <summary>The reserved attempt was a right password: it does not count as a failure.</summary>
    public void Succeeded(IPAddress client)
    {
        if (_tallies.TryGetValue(ClientBlock.Of(client), out var tally))
        {
            lock (tally)
            {
                tally.Count = Math.Max(0, tally.Count - 1);
            }
        }
    }

    /// <summary>True while <paramref name="client"/> has used up its attempts for the current window.</summary>
    public bool IsThrottled(IPAddress client)
    {
        if (!_tallies.TryGetValue(ClientBlock.Of(client), out var tally))
        {
            return false;
        }

        lock (tally)
        {
            return tally.Count >= _maxFailures && _time.GetUtcNow() - tally.Since < _window;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (client, tally) in _tallies)
        {
            lock (tally)
            {
                if (now - tally.Since < _window)
                {
                    continue;
                }
            }

            _tallies.TryRemove(client, out _);
        }
    }

    private sealed class Tally(DateTimeOffset since)
    {
        public DateTimeOffset Since { get; set; } = since;

        public int Count { get; set; }
    }
}
