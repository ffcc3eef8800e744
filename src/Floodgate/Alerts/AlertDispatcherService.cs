namespace Floodgate.Alerts;

/// <summary>Runs the <see cref="AlertDispatcher"/> for the life of the host.</summary>
public sealed class AlertDispatcherService(AlertDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dispatcher.RunAsync(stoppingToken);
}
