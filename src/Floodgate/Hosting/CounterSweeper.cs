using Floodgate.Storage;

namespace Floodgate.Hosting;

/// <summary>
/// Reclaims the memory of identities whose every window has emptied, once a minute, and keeps the counters within
/// their memory budget (counters.memory_budget), saying so in the log when the budget makes it forget identities.
/// </summary>
public sealed partial class CounterSweeper(MemoryCounterStore counters, TimeProvider time, ILogger<CounterSweeper> logger) : BackgroundService
{
    // A flood of new identities can pass the budget every second: one warning a minute, with what it forgot since.
    private static readonly TimeSpan WarnEvery = TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private DateTimeOffset _lastWarned = DateTimeOffset.MinValue;
    private long _evictedSinceWarned;
    private long _withoutLoginSinceWarned;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        counters.Evicted += Bit;
        var budget = Task.Run(() => counters.KeepWithinBudgetAsync(stoppingToken), stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var removed = counters.Sweep(time.GetUtcNow());
                if (removed > 0)
                {
                    LogSwept(removed, counters.TrackedIdentities);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            await budget;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Bit(EvictionPass pass)
    {
        lock (_lock)
        {
            _evictedSinceWarned += pass.Evicted;
            _withoutLoginSinceWarned += pass.WithoutLogin;
            var now = time.GetUtcNow();
            if (now - _lastWarned < WarnEvery)
            {
                return;
            }

            LogBudget(counters.MemoryBudget / (1024 * 1024), _evictedSinceWarned, _withoutLoginSinceWarned, pass.IdentitiesLeft, pass.BytesLeft / (1024 * 1024));
            _lastWarned = now;
            _evictedSinceWarned = 0;
            _withoutLoginSinceWarned = 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "reclaimed {Removed} idle identities; {Tracked} tracked")]
    private partial void LogSwept(int removed, int tracked);

    [LoggerMessage(Level = LogLevel.Warning, Message = "counters: memory budget of {BudgetMiB} MiB reached; forgot the counters of the {Evicted} identities used least recently ({WithoutLogin} of them without a login), whose limits start afresh; {Tracked} identities tracked in {UsedMiB} MiB (raise counters.memory_budget to keep more)")]
    private partial void LogBudget(long budgetMiB, long evicted, long withoutLogin, int tracked, long usedMiB);
}
