namespace Floodgate.Eval.Corpus;

/// <summary>
/// One account in a labels file: its archetype (the hijack's, for a hijacked account), the legitimate pattern it
/// sends besides, when the hijack's spam starts, and how many days it sent legitimate mail only.
/// </summary>
public sealed record LabelledAccount(string Account, string Archetype, string Pattern, DateTimeOffset? HijackStart, int LegitimateDays);
