using Floodgate.Engine;

namespace Floodgate.Alerts;

/// <summary>
/// Where incidents are announced. Implementations must return at once (queue the work): they are called on the
/// decision path, and a slow or failing channel must never delay a decision.
/// </summary>
public interface IIncidentAlerts
{
    /// <summary>An incident was opened: alert the admins once (and remind them while it stays open, if configured).</summary>
    void Opened(Incident incident);

    /// <summary>An incident was closed: stop reminding.</summary>
    void Closed(Incident incident);

    /// <summary>Observe mode recorded an observe-only incident (nobody suspended): alert once, marked observe only.</summary>
    void Observed(Incident incident)
    {
    }
}
