using Floodgate.Engine;
using Floodgate.Storage;

namespace Floodgate.Admin;

/// <summary>
/// Which accounts the admin surfaces list: the <see cref="Size"/> nearest their limits, ranked by one pass over this
/// node's counters at most every <see cref="Freshness"/> and only while someone asks, off the request that asks.
/// A page of the accounts API or the dashboard then costs its own rows, however many identities are tracked.
/// </summary>
/// <remarks>
/// On the embedded store the pass reads the counters in memory; on Redis it reads the cluster's counters (every
/// identity's keys, in batches), so the ranking covers what every node counted and may take seconds with many identities.
/// </remarks>
public sealed class AccountRanking(DecisionEngine engine, ICounterView counters, TimeProvider time)
{
    /// <summary>How many of the busiest accounts a ranking keeps (any other account is found by name).</summary>
    public const int Size = 1000;

    /// <summary>How old a ranking may be before the next request starts a new one.</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private Ranked? _latest;
    private Task<Ranked>? _ranking;

    /// <summary>The latest ranking; starts a new one when it is older than <see cref="Freshness"/>, and waits only for the first.</summary>
    public async Task<Ranked> CurrentAsync()
    {
        Task<Ranked>? running;
        lock (_lock)
        {
            var latest = _latest;
            // A pass over many identities takes a while: at most a fifth of a core goes to ranking, however often it is asked.
            if (latest is not null && time.GetUtcNow() - latest.At < TimeSpan.FromTicks(Math.Max(Freshness.Ticks, 5 * latest.Took.Ticks)))
            {
                return latest;
            }

            _ranking ??= Task.Run(RankAsync);
            running = _ranking;
            if (latest is not null)
            {
                return latest;
            }
        }

        return await running;
    }

    private async Task<Ranked> RankAsync()
    {
        try
        {
            var now = time.GetUtcNow();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var busiest = counters is MemoryCounterStore memory
                ? [.. memory.Busiest(Scope.Account, Size, now, MaxOf).Select(b => b.Key)]
                : await BusiestAsync(now);
            var ranked = new Ranked(busiest, now, watch.Elapsed);
            lock (_lock)
            {
                _latest = ranked;
            }

            return ranked;
        }
        finally
        {
            lock (_lock)
            {
                _ranking = null;
            }
        }
    }

    private long MaxOf(LimitRule rule, string key) =>
        !engine.Overrides.IsEmpty && engine.Overrides.TryGet(rule.Name, key, out var set) ? set : rule.MaxFor(key);

    // Any other view (Redis): every identity's counts, a batch of reads at a time, keeping the busiest.
    private async Task<List<string>> BusiestAsync(DateTimeOffset now)
    {
        var rules = engine.Rules.Rules.Where(r => r.Scope == Scope.Account).ToArray();
        var top = new PriorityQueue<string, double>(Size + 1);
        if (rules.Length == 0)
        {
            return [];
        }

        foreach (var batch in (await counters.KeysAsync(Scope.Account)).Chunk(256))
        {
            var counts = await Task.WhenAll(batch.Select(key => counters.CountsOfAsync(Scope.Account, key, now)));
            for (var i = 0; i < batch.Length; i++)
            {
                var utilization = rules.Max(r => counts[i][r.Index] <= 0 ? 0 : MaxOf(r, batch[i]) is var max && max <= 0 ? 1.0 : (double)counts[i][r.Index] / max);
                if (utilization > 0)
                {
                    top.Enqueue(batch[i], utilization);
                    if (top.Count > Size)
                    {
                        top.Dequeue();
                    }
                }
            }
        }

        var busiest = new List<string>(top.Count);
        while (top.TryDequeue(out var key, out _))
        {
            busiest.Add(key);
        }

        busiest.Reverse();
        return busiest;
    }

    /// <summary>One ranking: the busiest accounts' keys, busiest first, when it was made and how long it took.</summary>
    public sealed record Ranked(IReadOnlyList<string> Busiest, DateTimeOffset At, TimeSpan Took);
}
