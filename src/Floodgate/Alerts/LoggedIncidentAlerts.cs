using Floodgate.Engine;

namespace Floodgate.Alerts;

/// <summary>Announces incidents in Floodgate's own log (always on, beside any configured channel).</summary>
public sealed partial class LoggedIncidentAlerts(ILogger<LoggedIncidentAlerts> logger) : IIncidentAlerts
{
    public void Opened(Incident incident) =>
        LogOpened(incident.Id, incident.Identity.ToString(), incident.Rule ?? "by hand", incident.Reason, incident.Identity.Key);

    public void Closed(Incident incident) =>
        LogClosed(incident.Id, incident.Identity.ToString(), incident.Resolution ?? "closed", incident.ClosedBy ?? "-");

    [LoggerMessage(Level = LogLevel.Warning, Message = "INCIDENT {Id} opened: {Identity} suspended ({Rule}): {Reason}. Release with: floodgate release {Account} --deliver (or --purge)")]
    private partial void LogOpened(long id, string identity, string rule, string reason, string account);

    [LoggerMessage(Level = LogLevel.Information, Message = "INCIDENT {Id} closed: {Identity} {Resolution} by {By}")]
    private partial void LogClosed(long id, string identity, string resolution, string by);
}
