namespace Floodgate.Alerts;

/// <summary>One attempt to send an alert on a channel failed; <paramref name="GaveUp"/> when it was the last attempt.</summary>
public sealed record AlertFailed(long? IncidentId, AlertEvent Event, string Channel, bool GaveUp, DateTimeOffset At);
