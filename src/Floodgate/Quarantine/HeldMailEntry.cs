namespace Floodgate.Quarantine;

/// <summary>One held message as the ledger lists it.</summary>
/// <param name="Place">Where it sits: "postfix hold queue" or "relay quarantine".</param>
/// <param name="Id">Postfix's queue id, or the relay's spool id.</param>
/// <param name="Identity">Whom it is held for ("account:alice@example.com").</param>
/// <param name="Reason">Why it is held.</param>
/// <param name="HeldAt">When it was held.</param>
/// <param name="EnforcementPoint">Which enforcement point held it ("policy", "relay").</param>
/// <param name="Sender">Its envelope sender, where known.</param>
public sealed record HeldMailEntry(string Place, string Id, string Identity, string Reason, DateTimeOffset HeldAt, string EnforcementPoint,
    string? Sender);
