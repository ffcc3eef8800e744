using Floodgate.Engine;

namespace Floodgate.Alerts;

/// <summary>One announcement, composed once and sent as is on every channel: subject, readable text and JSON.</summary>
public sealed class Alert
{
    private Alert(AlertEvent kind, Incident? incident, string subject, string text, DateTimeOffset at, string? dashboardUrl)
    {
        Event = kind;
        Incident = incident;
        Subject = subject;
        Text = text;
        At = at;
        DashboardUrl = dashboardUrl;
        // Observe mode suspended nobody: there is nothing to release.
        ReleaseCommand = incident is null || kind == AlertEvent.Observed ? null : AlertText.ReleaseCommand(incident.Identity, "--deliver");
        PurgeCommand = incident is null || kind == AlertEvent.Observed ? null : AlertText.ReleaseCommand(incident.Identity, "--purge");
        Json = AlertPayload.Write(this);
    }

    public AlertEvent Event { get; }

    /// <summary>The <c>event</c> field: suspended, reminder, observed or system.</summary>
    public string EventName => Event switch
    {
        AlertEvent.Suspended => "suspended",
        AlertEvent.Reminder => "reminder",
        AlertEvent.Observed => "observed",
        AlertEvent.Warning => "warning",
        _ => "system",
    };

    /// <summary>The <c>mode</c> field and FLOODGATE_MODE: "observe" for an observe-only alert (nothing was enforced), else "enforce".</summary>
    public string ModeName => Event == AlertEvent.Observed ? "observe" : "enforce";

    /// <summary>A copy of the incident taken when the alert was made, or null for a system alert.</summary>
    public Incident? Incident { get; }

    public string Subject { get; }

    /// <summary>The plain-text summary an admin reads: the mail body, the webhook's <c>text</c>.</summary>
    public string Text { get; }

    /// <summary>The JSON document of the webhook and the command hook's stdin (schema in Alerts/README.md).</summary>
    public string Json { get; }

    public DateTimeOffset At { get; }

    public string? DashboardUrl { get; }

    /// <summary>The command that delivers the held mail and releases the identity.</summary>
    public string? ReleaseCommand { get; }

    /// <summary>The command that deletes the held mail and releases the identity.</summary>
    public string? PurgeCommand { get; }

    /// <summary>An alert about an incident; the incident is copied (under its lock) so later changes do not race the send.</summary>
    public static Alert ForIncident(AlertEvent kind, Incident incident, DateTimeOffset now, string? dashboardUrl) =>
        FromCopy(kind, incident.Snapshot(), now, dashboardUrl);

    /// <summary>An alert about an incident copy that nothing else changes any more.</summary>
    internal static Alert FromCopy(AlertEvent kind, Incident copy, DateTimeOffset now, string? dashboardUrl) =>
        new(kind, copy, AlertText.Subject(kind, copy), AlertText.Body(kind, copy, now, dashboardUrl), now, dashboardUrl);

    /// <summary>An alert about Floodgate itself.</summary>
    public static Alert ForSystem(string subject, string text, DateTimeOffset now, string? dashboardUrl, AlertEvent kind = AlertEvent.System)
    {
        var body = AlertText.Clean(text, 20_000, keepLines: true) + (dashboardUrl is null ? "" : $"\n\nDashboard: {dashboardUrl}") + "\n";
        return new Alert(kind, null, "[Floodgate] " + AlertText.Clean(subject, 200), body, now, dashboardUrl);
    }
}
