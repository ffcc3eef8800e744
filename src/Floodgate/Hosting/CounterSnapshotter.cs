using Floodgate.Configuration;
using Floodgate.Storage;

namespace Floodgate.Hosting;

/// <summary>
/// Saves the window counters that changed every snapshot interval (and once more when Floodgate stops), so a
/// restart or a crash loses at most one interval of counting; drops saved windows that have expired.
/// </summary>
public sealed partial class CounterSnapshotter(
    MemoryCounterStore counters, SqliteCounterSnapshots snapshots, FloodgateOptions options, TimeProvider time,
    ILogger<CounterSnapshotter> logger) : BackgroundService
{
    private readonly TimeSpan _longestWindow = options.Rules.Rules.Count == 0 ? TimeSpan.Zero : options.Rules.Rules.Max(r => r.Window);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        SaveNow();
    }

    /// <summary>Writes every changed window now; returns how many.</summary>
    public int SaveNow()
    {
        var rows = counters.ExportChanged();
        snapshots.Save(rows, time.GetUtcNow());
        return rows.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SnapshotInterval, time);
        var lastCleanup = time.GetUtcNow();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    SaveNow();
                    if (time.GetUtcNow() - lastCleanup > TimeSpan.FromMinutes(10))
                    {
                        snapshots.DeleteOlderThan(time.GetUtcNow(), _longestWindow);
                        lastCleanup = time.GetUtcNow();
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The counters stay in memory and the next interval tries again.
                    LogSaveFailed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "saving the counter snapshot failed; retrying next interval")]
    private partial void LogSaveFailed(Exception e);
}
