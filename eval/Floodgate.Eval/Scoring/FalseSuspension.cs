namespace Floodgate.Eval.Scoring;

/// <summary>A legitimate account (or a hijacked one before its hijack) suspended, with the replay's cause.</summary>
public sealed record FalseSuspension(string Account, string Pattern, DateTimeOffset Time, string? Cause);
