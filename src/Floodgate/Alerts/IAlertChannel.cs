namespace Floodgate.Alerts;

/// <summary>One way to reach the admins (mail, webhook, command hook); the dispatcher retries it and never waits on it.</summary>
public interface IAlertChannel
{
    /// <summary>How the channel is named in log lines; never contains a secret.</summary>
    string Name { get; }

    /// <summary>Delivers one alert, or throws <see cref="AlertDeliveryException"/> with a message fit for the log.</summary>
    Task SendAsync(Alert alert, CancellationToken cancellationToken);
}
