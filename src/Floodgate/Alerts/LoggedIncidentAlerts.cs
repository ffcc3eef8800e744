using Floodgate.Engine;

namespace Floodgate.Alerts;

/// <summary>Announces incidents in Floodgate's own log (always on, beside any configured channel).</summary>
public sealed partial class LoggedIncidentAlerts(ILogger<LoggedIncidentAlerts> logger) : IIncidentAlerts
{
    public void Opened(Incident incident) =>
        LogOpened(incident.Id, incident.Identity.ToString(), incident.Rule ?? "by hand", incident.Reason, incident.Identity.Key);

    public void Closed(Incident incident) =>
        LogClosed(incident.Id, incident.Identity.ToString(), incident.Resolution ?? "closed", incident.ClosedBy ?? "-");

    public void Observed(Incident incident) =>
        LogObserved(incident.Id, incident.Identity.ToString(), incident.Rule ?? "-", incident.Reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "INCIDENT {Id} (observe only): {Identity} would have been suspended ({Rule}): {Reason}. Nothing was held; set mode: enforce and reload to act")]
    private partial void LogObserved(long id, string identity, string rule, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "INCIDENT {Id} opened: {Identity} suspended ({Rule}): {Reason}. Release with: floodgate release {Account} --deliver (or --purge)")]
    private partial void LogOpened(long id, string identity, string rule, string reason, string account);

    [LoggerMessage(Level = LogLevel.Information, Message = "INCIDENT {Id} closed: {Identity} {Resolution} by {By}")]
    private partial void LogClosed(long id, string identity, string resolution, string by);
}
