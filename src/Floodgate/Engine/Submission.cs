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
}
