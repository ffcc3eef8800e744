namespace Floodgate.Eval.Corpus;

/// <summary>
/// One account of the corpus: its login, the legitimate pattern it sends, and for a hijacked one the hijack archetype
/// and when the spam starts (its legitimate mail goes on beside it).
/// </summary>
public sealed record CorpusAccount(string Login, Archetype Pattern, Archetype? Hijack, DateTimeOffset? HijackStart, int FirstDay)
{
    /// <summary>The archetype the tables file it under: the hijack where there is one.</summary>
    public Archetype Archetype => Hijack ?? Pattern;

    /// <summary>Days of the corpus on which the account sent legitimately only: from its first day to its hijack's day.</summary>
    public int LegitimateDays(CorpusOptions options) => (HijackStart is { } start
        ? (int)(start - new DateTimeOffset(options.Start.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)).TotalDays
        : options.Days) - FirstDay;
}
