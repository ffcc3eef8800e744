namespace Floodgate.Eval.Corpus;

/// <summary>The size and seed of a generated corpus: the same options always give the same maillog and labels.</summary>
public sealed record CorpusOptions
{
    public const int MinAccounts = 30;

    public const int MaxAccounts = 20_000;

    public const int MinDays = 7;

    public const int MaxDays = 120;

    public int Accounts { get; init; } = 300;

    public int Days { get; init; } = 21;

    public int Seed { get; init; } = 1;

    /// <summary>The first day (midnight UTC); a Monday, so that day 14 starts week 3.</summary>
    public DateOnly Start { get; init; } = new(2026, 11, 2);

    /// <summary>The company's own domain: logins, colleagues and the announcement's recipients.</summary>
    public string Domain { get; init; } = "example.com";

    /// <summary>A clear message for options a corpus cannot be made from, else null.</summary>
    public string? Problem()
    {
        if (Accounts is < MinAccounts or > MaxAccounts)
        {
            return $"--accounts must be {MinAccounts} to {MaxAccounts} (every archetype needs its accounts): {Accounts}";
        }

        if (Days is < MinDays or > MaxDays)
        {
            return $"--days must be {MinDays} to {MaxDays} (the hijacks start after a week of history): {Days}";
        }

        if (Start.DayOfWeek != DayOfWeek.Monday)
        {
            return $"--start must be a Monday: {Start:yyyy-MM-dd} is a {Start.DayOfWeek}";
        }

        return null;
    }
}
