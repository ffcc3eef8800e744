namespace Floodgate.Alerts;

/// <summary>An alert reached one channel: what the incident timeline records as "alerted" or "reminded".</summary>
public sealed record AlertDelivered(long? IncidentId, AlertEvent Event, string Channel, DateTimeOffset At);
