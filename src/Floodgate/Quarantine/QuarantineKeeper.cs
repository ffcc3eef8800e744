namespace Floodgate.Quarantine;

/// <summary>Every hour: purges held mail older than the quarantine's retention.</summary>
public sealed partial class QuarantineKeeper(RelayQuarantine quarantine, TimeProvider time, ILogger<QuarantineKeeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
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

    [LoggerMessage(Level = LogLevel.Error, Message = "purging expired quarantined mail failed; retrying in an hour")]
    private partial void LogFailed(Exception e);
}
