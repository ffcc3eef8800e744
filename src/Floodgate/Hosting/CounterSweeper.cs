using Floodgate.Storage;

namespace Floodgate.Hosting;

/// <summary>Reclaims the memory of identities whose every window has emptied, once a minute.</summary>
public sealed partial class CounterSweeper(MemoryCounterStore counters, TimeProvider time, ILogger<CounterSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "reclaimed {Removed} idle identities; {Tracked} tracked")]
    private partial void LogSwept(int removed, int tracked);
}
