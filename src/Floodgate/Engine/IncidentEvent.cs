namespace Floodgate.Engine;

/// <summary>One step of an incident's timeline: suspended, alerted, reminded, released, purged, delivered...</summary>
public sealed record IncidentEvent(DateTimeOffset At, string Kind, string By, string Detail);
