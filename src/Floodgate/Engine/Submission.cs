namespace Floodgate.Engine;

/// <summary>One outbound message as every enforcement point describes it to the engine.</summary>
/// <param name="Account">The SASL login, or null when the client did not authenticate.</param>
/// <param name="Sender">The envelope sender; empty for the null sender (bounces).</param>
/// <param name="RecipientCount">Recipients of the message (at RCPT time, those known so far).</param>
/// <param name="Size">Message size in bytes, 0 when not yet known.</param>
/// <param name="ClientAddress">The SMTP client's IP address.</param>
/// <param name="Time">When the message was submitted; the engine counts it at this time.</param>
public readonly record struct Submission(
    string? Account,
    string? Sender,
    int RecipientCount,
    long Size,
    string? ClientAddress,
    DateTimeOffset Time)
{
    /// <summary>Recipient addresses where the enforcement point knows them.</summary>
    public IReadOnlyList<string>? Recipients { get; init; }

    /// <summary>
    /// Whether a submission without a login comes from a trusted network; the decision pipeline sets it, and a login
    /// makes it irrelevant.
    /// </summary>
    public ClientTrust Trust { get; init; }

    /// <summary>The enforcement point's id of the message (Postfix's queue id, the relay's spool id), where known.</summary>
    public string? QueueId { get; init; }

    /// <summary>The Subject header where the enforcement point saw it (the relay).</summary>
    public string? Subject { get; init; }

    /// <summary>
    /// True when <see cref="Account"/> is not a login but the envelope sender the enforcement point counts as the
    /// account (the relay, for servers relaying without a login or with one shared login).
    /// </summary>
    public bool AccountFromSender { get; init; }

    /// <summary>Recipients known to have failed for a bad address (5.1.x), where the enforcement point learns outcomes (the log readers).</summary>
    public int FailedRecipients { get; init; }

    /// <summary>Recipients known to have been delivered, where the enforcement point learns outcomes.</summary>
    public int DeliveredRecipients { get; init; }

    /// <summary>True when the client logged in as <see cref="Account"/> (a SASL or relay login).</summary>
    public bool HasLogin => !string.IsNullOrEmpty(Account) && !AccountFromSender;
}
