namespace Floodgate.Relay.Delivery;

/// <summary>One recipient a delivery report names: its RFC 3463 status and, when the next hop answered, that answer.</summary>
internal sealed record ReportedRecipient(string Recipient, string Status, string? Diagnostic);
