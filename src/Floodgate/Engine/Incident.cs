namespace Floodgate.Engine;

/// <summary>One suspension and everything known about it: who, which rule, the evidence, and what happened since.</summary>
public sealed class Incident
{
    /// <summary>The resolution of an incident observe mode opened: nobody was suspended, it was only recorded (and alerted).</summary>
    public const string ObservedResolution = "observe-only";

    public long Id { get; set; }

    public required Identity Identity { get; init; }

    /// <summary>The rule that tripped, or null when an admin suspended by hand.</summary>
    public string? Rule { get; init; }

    /// <summary>The suspension's reason, in words an admin reads.</summary>
    public required string Reason { get; init; }

    public required DateTimeOffset OpenedAt { get; init; }

    /// <summary>When the account is released automatically, or null when only an admin can release it.</summary>
    public DateTimeOffset? AutoReleaseAt { get; set; }

    public DateTimeOffset? ClosedAt { get; set; }

    public string? ClosedBy { get; set; }

    /// <summary>How it ended: delivered, purged, released, auto-released.</summary>
    public string? Resolution { get; set; }

    public bool IsOpen => ClosedAt is null;

    /// <summary>
    /// True for an incident observe mode recorded: the identity would have been suspended, but nothing was held. It is
    /// closed from the start, so nothing releases it or reminds of it.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsObserveOnly => Resolution == ObservedResolution;

    public IncidentEvidence Evidence { get; init; } = new();

    public List<IncidentEvent> Timeline { get; init; } = [];

    /// <summary>
    /// A deep copy taken under the incident's lock (the lock the decision path holds while it adds evidence), for
    /// showing or sending the incident while it keeps changing.
    /// </summary>
    public Incident Snapshot()
    {
        lock (this)
        {
            var evidence = Evidence;
            return new Incident
            {
                Id = Id,
                Identity = Identity,
                Rule = Rule,
                Reason = Reason,
                OpenedAt = OpenedAt,
                AutoReleaseAt = AutoReleaseAt,
                ClosedAt = ClosedAt,
                ClosedBy = ClosedBy,
                Resolution = Resolution,
                Evidence = new IncidentEvidence
                {
                    Counters = [.. evidence.Counters],
                    FirstSubmission = evidence.FirstSubmission,
                    LastSubmission = evidence.LastSubmission,
                    RefusedMessages = evidence.RefusedMessages,
                    RefusedRecipients = evidence.RefusedRecipients,
                    RecipientsRefusedByNextHop = evidence.RecipientsRefusedByNextHop,
                    LoginInvolved = evidence.LoginInvolved,
                    WithoutLogin = evidence.WithoutLogin,
                    ClientAddresses = new(evidence.ClientAddresses),
                    RecipientDomains = new(evidence.RecipientDomains),
                    Senders = new(evidence.Senders),
                    QueueIds = [.. evidence.QueueIds],
                    Subjects = [.. evidence.Subjects],
                    Grouped = [.. evidence.Grouped],
                },
                Timeline = [.. Timeline],
            };
        }
    }
}
