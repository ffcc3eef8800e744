using System.Collections.Concurrent;
using Floodgate.Engine;

namespace Floodgate.Admin;

/// <summary>
/// The one observer of every decision, whichever listener made it (the policy service now, the relay next): it keeps
/// messages and recipients per minute for the dashboard's chart, each account's latest decisions, and feeds the
/// metrics. A listener calls <see cref="Record"/> once per answered request, where it writes the decision log line.
/// </summary>
public sealed class TrafficHistory
{
    /// <summary>How far back the per-minute history reaches.</summary>
    public const int Minutes = 6 * 60;

    /// <summary>Decisions kept per account.</summary>
    public const int RecentPerAccount = 20;

    /// <summary>Accounts whose recent decisions are kept; past this, accounts idle for an hour are forgotten first.</summary>
    public const int MaxAccounts = 20_000;

    private const long Turning = -1;

    private readonly Slot[] _slots = new Slot[Minutes];
    private readonly ConcurrentDictionary<string, Recent> _recent = new(StringComparer.OrdinalIgnoreCase);
    private readonly FloodgateMetrics? _metrics;

    public TrafficHistory(FloodgateMetrics? metrics = null)
    {
        _metrics = metrics;
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i].Minute = long.MinValue;
        }
    }

    /// <summary>Records one decision. Counting a minute is a few interlocked adds on fixed slots: nothing is allocated.</summary>
    public void Record(string listener, in Submission submission, in Decision decision, DecisionStage stage, TimeSpan elapsed)
    {
        _metrics?.Decided(listener, decision, elapsed);
        var account = submission.Account ?? (string.IsNullOrEmpty(submission.Sender) ? submission.ClientAddress : submission.Sender);
        if (account is not null)
        {
            Remember(account, new RecentDecision(listener, stage, submission, decision));
        }

        // A message is counted where its recipients are known for good (DATA, the relay's end of data); RCPT checks are not messages.
        if (stage != DecisionStage.Count)
        {
            return;
        }

        var minute = submission.Time.ToUnixTimeSeconds() / 60;
        ref var slot = ref _slots[minute % Minutes];
        if (Volatile.Read(ref slot.Minute) != minute && !Turn(ref slot, minute))
        {
            return;
        }

        if (decision.Verdict == Verdict.Accept)
        {
            Interlocked.Increment(ref slot.Messages);
            Interlocked.Add(ref slot.Recipients, submission.RecipientCount);
        }
        else
        {
            Interlocked.Increment(ref slot.Refused);
        }
    }

    /// <summary>The last <paramref name="minutes"/> minutes up to <paramref name="now"/>, oldest first; minutes without traffic are zero.</summary>
    public IReadOnlyList<MinuteTraffic> Last(int minutes, DateTimeOffset now)
    {
        minutes = Math.Clamp(minutes, 1, Minutes);
        var current = now.ToUnixTimeSeconds() / 60;
        var result = new MinuteTraffic[minutes];
        for (var i = 0; i < minutes; i++)
        {
            var minute = current - minutes + 1 + i;
            ref var slot = ref _slots[minute % Minutes];
            var start = DateTimeOffset.FromUnixTimeSeconds(minute * 60);
            result[i] = Volatile.Read(ref slot.Minute) == minute
                ? new MinuteTraffic(start, Volatile.Read(ref slot.Messages), Volatile.Read(ref slot.Recipients), Volatile.Read(ref slot.Refused))
                : new MinuteTraffic(start, 0, 0, 0);
        }

        return result;
    }

    /// <summary>An account's latest decisions, newest first.</summary>
    public IReadOnlyList<RecentDecision> RecentOf(string account) => _recent.TryGetValue(account, out var recent) ? recent.Newest() : [];

    // The first thread to see a new minute in a slot claims it, zeroes it and publishes the minute; the others wait
    // for that, so no count of the new minute lands before the reset.
    private bool Turn(ref Slot slot, long minute)
    {
        var spin = default(SpinWait);
        while (true)
        {
            var seen = Volatile.Read(ref slot.Minute);
            if (seen == minute)
            {
                return true;
            }

            if (seen > minute)
            {
                // The slot already holds a later minute: this submission's time is over six hours old.
                return false;
            }

            if (seen != Turning && Interlocked.CompareExchange(ref slot.Minute, Turning, seen) == seen)
            {
                Volatile.Write(ref slot.Messages, 0);
                Volatile.Write(ref slot.Recipients, 0);
                Volatile.Write(ref slot.Refused, 0);
                Volatile.Write(ref slot.Minute, minute);
                if (minute % 10 == 0)
                {
                    ForgetIdle(DateTimeOffset.FromUnixTimeSeconds(minute * 60));
                }

                return true;
            }

            spin.SpinOnce();
        }
    }

    private void Remember(string account, in RecentDecision decision)
    {
        if (!_recent.TryGetValue(account, out var recent))
        {
            if (_recent.Count >= MaxAccounts)
            {
                return;
            }

            recent = _recent.GetOrAdd(account, static _ => new Recent());
        }

        recent.Add(decision);
    }

    private void ForgetIdle(DateTimeOffset now)
    {
        if (_recent.Count < MaxAccounts / 2)
        {
            return;
        }

        foreach (var (account, recent) in _recent)
        {
            if (now - recent.Last > TimeSpan.FromHours(1))
            {
                _recent.TryRemove(account, out _);
            }
        }
    }

    private struct Slot
    {
        public long Minute;
        public long Messages;
        public long Recipients;
        public long Refused;
    }

    private sealed class Recent
    {
        private readonly RecentDecision[] _ring = new RecentDecision[RecentPerAccount];
        private int _next;
        private int _count;
        private DateTimeOffset _last;

        public DateTimeOffset Last
        {
            get
            {
                lock (_ring)
                {
                    return _last;
                }
            }
        }

        public void Add(in RecentDecision decision)
        {
            lock (_ring)
            {
                _ring[_next] = decision;
                _next = (_next + 1) % _ring.Length;
                _count = Math.Min(_count + 1, _ring.Length);
                _last = decision.Submission.Time;
            }
        }

        public RecentDecision[] Newest()
        {
            lock (_ring)
            {
                var result = new RecentDecision[_count];
                for (var i = 0; i < _count; i++)
                {
                    result[i] = _ring[(_next - 1 - i + _ring.Length) % _ring.Length];
                }

                return result;
            }
        }
    }
}
