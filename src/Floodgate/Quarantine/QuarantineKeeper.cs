namespace Floodgate.Quarantine;

/// <summary>Every hour: purges held mail older than the quarantine's retention; every few seconds: lets delayed mail go whose window has room.</summary>
public sealed partial class QuarantineKeeper(RelayQuarantine quarantine, Relay.RelayIntake intake, TimeProvider time, ILogger<QuarantineKeeper> logger)
    : BackgroundService
{
    /// <summary>How often delayed messages are offered to their windows again.</summary>
    public static readonly TimeSpan DelayedInterval = TimeSpan.FromSeconds(2);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(ExpireAsync(stoppingToken), ReleaseDelayedAsync(stoppingToken));

    private async Task ReleaseDelayedAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(DelayedInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await quarantine.ReleaseDelayedAsync(m => intake.RedecideAsync(m, time.GetUtcNow()));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogDelayedFailed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ExpireAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        try
        {
            do
            {
                try
                {
                    await quarantine.ExpireAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "letting delayed mail go failed; retrying shortly")]
    private partial void LogDelayedFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "purging expired quarantined mail failed; retrying in an hour")]
    private partial void LogFailed(Exception e);
}
