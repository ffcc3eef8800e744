using Floodgate.Engine;
using Floodgate.Quarantine;

namespace Floodgate.Incidents;

/// <summary>What a release did: whether the identity was suspended, the incident it closed, and the held mail it acted on.</summary>
/// <param name="WasSuspended">Whether the identity was suspended until now.</param>
/// <param name="Incident">The incident the release closed, or null.</param>
/// <param name="HeldMessages">Held messages delivered or purged, over every place.</param>
/// <param name="HeldLeft">Held messages still held for the identity afterwards (see <see cref="Places"/> for where and why).</param>
/// <param name="Problem">What went wrong, or null.</param>
public sealed record ReleaseOutcome(bool WasSuspended, Incident? Incident, int HeldMessages, int HeldLeft, string? Problem)
{
    /// <summary>Each place's share of the release.</summary>
    public IReadOnlyList<HeldMailRelease> Places { get; init; } = [];
}
