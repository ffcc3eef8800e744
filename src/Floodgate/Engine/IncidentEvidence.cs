namespace Floodgate.Engine;

/// <summary>What the admin needs to judge an incident: counters, when, from where, to where, and what is held.</summary>
public sealed class IncidentEvidence
{
    /// <summary>Queue ids and similar lists stop growing here; the counts go on.</summary>
    public const int MaxListed = 1000;

    /// <summary>Each rule's counter for the identity when it was suspended.</summary>
    public List<CounterValue> Counters { get; init; } = [];

    public DateTimeOffset? FirstSubmission { get; set; }

    public DateTimeOffset? LastSubmission { get; set; }

    /// <summary>Messages refused (held, deferred or rejected) since the suspension.</summary>
    public long RefusedMessages { get; set; }

    public long RefusedRecipients { get; set; }

    /// <summary>Recipients of the identity's relayed mail that the next hop refused for good (a sign of a spam run).</summary>
    public long RecipientsRefusedByNextHop { get; set; }

    public Dictionary<string, long> ClientAddresses { get; init; } = [];

    public Dictionary<string, long> RecipientDomains { get; init; } = [];

    public Dictionary<string, long> Senders { get; init; } = [];

    /// <summary>
    /// Whether the mail that tripped the suspension came with a login; false means none did (the sender may be
    /// forged), null when an admin suspended by hand.
    /// </summary>
    public bool? LoginInvolved { get; set; }

    /// <summary>Refused submissions since the suspension that came without a login.</summary>
    public long WithoutLogin { get; set; }

    /// <summary>A sample of the queue ids of held messages, to look at; release finds every held message through the held-mail ledger.</summary>
    public List<string> QueueIds { get; init; } = [];

    /// <summary>
    /// Other identities without a login suspended by the same rule while this incident was open, within the rule's
    /// window (a flood of forged senders): they share this incident and its one alert, and its release releases them all.
    /// </summary>
    public List<Identity> Grouped { get; init; } = [];

    /// <summary>Subjects where the enforcement point saw them (the relay), a sample.</summary>
    public List<string> Subjects { get; init; } = [];
}
