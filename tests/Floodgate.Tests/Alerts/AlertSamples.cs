using Floodgate.Engine;

namespace Floodgate.Tests.Alerts;

/// <summary>Incidents as the incident tracker hands them over: a hijacked account with its evidence.</summary>
internal static class AlertSamples
{
    public static readonly DateTimeOffset OpenedAt = new(2026, 11, 27, 20, 58, 17, TimeSpan.Zero);

    public static Incident Incident(long id = 42, string account = "alice@example.com") => new()
    {
        Id = id,
        Identity = new Identity(Scope.Account, account),
        Rule = "hourly",
        Reason = $"account:{account} has sent 500 of 500 recipients allowed per 1h and this message adds 20 (rule hourly)",
        OpenedAt = OpenedAt,
        Evidence = new IncidentEvidence
        {
            Counters =
            [
                new CounterValue("burst", "recipients", 50, 60, "1m"),
                new CounterValue("hourly", "recipients", 500, 500, "1h"),
                new CounterValue("daily", "recipients", 500, 2000, "24h"),
            ],
            FirstSubmission = OpenedAt.AddMinutes(-57),
            LoginInvolved = true,
            LastSubmission = OpenedAt.AddMinutes(3),
            RefusedMessages = 250,
            RefusedRecipients = 1200,
            ClientAddresses = { ["192.0.2.7"] = 280, ["198.51.100.3"] = 20 },
            RecipientDomains = { ["gmail.com"] = 120, ["yahoo.com"] = 80, ["example.net"] = 7 },
            Senders = { [account] = 300 },
            QueueIds = ["4AbCdE1", "4AbCdE2"],
            Subjects = ["Your invoice is overdue"],
        },
        Timeline = [new IncidentEvent(OpenedAt, "suspended", "engine", "over limit hourly")],
    };
}
