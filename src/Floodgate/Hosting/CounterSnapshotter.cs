using Floodgate.Configuration;
using Floodgate.Storage;

namespace Floodgate.Hosting;

/// <summary>
/// Saves the window counters that changed every snapshot interval (and once more when Floodgate stops) and drops saved
/// windows that have expired. With the counter journal, a crash loses nothing: each snapshot starts a new journal
/// segment first and deletes the segments it covers once saved. Without it, a crash loses at most one interval.
/// </summary>
public sealed partial class CounterSnapshotter(
    MemoryCounterStore counters, SqliteCounterSnapshots snapshots, FloodgateOptions options, TimeProvider time,
    ILogger<CounterSnapshotter> logger) : BackgroundService
{
    private readonly TimeSpan _longestWindow = options.Rules.Rules.Count == 0 ? TimeSpan.Zero : options.Rules.Rules.Max(r => r.Window);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await SaveNowAsync();
    }

    // Windows per transaction: a snapshot of a million new identities is written a bounded batch at a time, small
    // enough that a batch dies young (20,000 lived long enough to be promoted: 100+ MiB more RSS at a million).
    private const int SnapshotBatch = 2_000;

    /// <summary>Writes every changed window now, then deletes the journal segments the snapshot covers; returns how many windows.</summary>
    public async Task<int> SaveNowAsync()
    {
        // Every change journaled up to the cut is already in the counters, so the export below holds it.
        long? cut = counters.Journal is { } journal ? await journal.RotateAsync() : null;

        // Identities the memory budget forgot leave the database too (unless counted again since: their rows follow).
        snapshots.Delete([.. counters.TakeEvicted().Where(i => !counters.Tracks(i.Scope, i.Key))]);
        var rows = counters.ExportChanged(rows => snapshots.Save(rows, time.GetUtcNow(), synced: cut is not null), SnapshotBatch);
        if (cut is { } lsn)
        {
            counters.Journal!.DeleteThrough(lsn);
        }

        return rows;
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
                    await SaveNowAsync();
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
