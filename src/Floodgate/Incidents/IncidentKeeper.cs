namespace Floodgate.Incidents;

/// <summary>
/// Stores and announces each incident a decision opens as soon as it opens; every second, writes the evidence
/// gathered for open incidents (and what could not be stored before) and releases accounts whose suspension time is up.
/// </summary>
public sealed partial class IncidentKeeper(IncidentBook incidents, AccountRelease releases, TimeProvider time, ILogger<IncidentKeeper> logger) : BackgroundService
{
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await incidents.FlushAsync();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var opened = Task.Run(() => StoreOpenedAsync(stoppingToken), stoppingToken);
        await EverySecondAsync(stoppingToken);
        try
        {
            await opened;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task StoreOpenedAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await incidents.WaitForOpenedAsync(stoppingToken))
            {
                try
                {
                    await incidents.FlushAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task EverySecondAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await incidents.FlushAsync();
                    await releases.ReleaseDueAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "saving incidents or releasing due accounts failed; retrying in a second")]
    private partial void LogFailed(Exception e);
}
