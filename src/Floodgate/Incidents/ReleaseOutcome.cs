using Floodgate.Engine;

namespace Floodgate.Incidents;

/// <summary>What a release did: whether the account was suspended, the incident it closed, and the held mail it acted on.</summary>
public sealed record ReleaseOutcome(bool WasSuspended, Incident? Incident, int HeldMessages, string? Problem);
