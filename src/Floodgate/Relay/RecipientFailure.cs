namespace Floodgate.Relay;

/// <summary>A recipient the next hop refused, with its SMTP answer.</summary>
public sealed record RecipientFailure(string Recipient, int Code, string Answer);
