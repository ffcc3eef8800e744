namespace Floodgate.Logs;

/// <summary>One recipient of a logged message and what the log says became of it.</summary>
/// <param name="Address">The recipient address.</param>
/// <param name="Status">sent, bounced, deferred, expired, or null while unknown.</param>
/// <param name="Code">The enhanced status code (5.1.1) where the log gives one.</param>
/// <param name="Agent">The delivery agent (smtp, lmtp, virtual, local), where known.</param>
public sealed record RecipientOutcome(string Address, string? Status = null, string? Code = null, string? Agent = null);
