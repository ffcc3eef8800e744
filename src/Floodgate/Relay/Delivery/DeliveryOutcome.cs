namespace Floodgate.Relay.Delivery;

/// <summary>What one delivery attempt did for each recipient.</summary>
internal sealed class DeliveryOutcome
{
    public List<string> Accepted { get; } = [];

    /// <summary>Refused for good (5xx): returned to the sender.</summary>
    public List<RecipientFailure> Refused { get; } = [];

    /// <summary>Deferred (4xx, or the connection failed): tried again later.</summary>
    public List<RecipientFailure> Deferred { get; } = [];

    /// <summary>The next hop's answer to the message, when it took it.</summary>
    public string Answer { get; set; } = "";
}
