using Floodgate.Eval.Corpus;

namespace Floodgate.Eval.Scoring;

/// <summary>One configuration's results on a corpus: per hijacked account, per legitimate pattern, and the false suspensions.</summary>
public sealed class Scorecard
{
    /// <summary>False suspensions are counted per this many legitimate account-days.</summary>
    public const int AccountDaysUnit = 10_000;

    /// <summary>What was replayed: the configuration's file name, or "embedded default".</summary>
    public required string Configuration { get; init; }

    public required IReadOnlyList<HijackOutcome> Hijacks { get; init; }

    /// <summary>Per legitimate pattern, in <see cref="Archetypes.Legitimate"/> order.</summary>
    public required IReadOnlyList<LegitimateOutcome> Legitimate { get; init; }

    public required IReadOnlyList<FalseSuspension> FalseSuspensions { get; init; }

    /// <summary>Event lines of kinds this scorer does not know (left out, counted so that a new kind is noticed).</summary>
    public int UnknownEvents { get; init; }

    public int AccountDays => Legitimate.Sum(l => l.AccountDays);

    public double FalseSuspensionsPerUnit => AccountDays == 0 ? 0 : FalseSuspensions.Count * (double)AccountDaysUnit / AccountDays;

    public IEnumerable<HijackOutcome> Of(Archetype hijack) => Hijacks.Where(h => h.Archetype == hijack);

    public LegitimateOutcome Pattern(Archetype pattern) => Legitimate.Single(l => l.Pattern == pattern);

    /// <summary>The median of spam messages delivered over the accounts of a hijack archetype.</summary>
    public double MedianDelivered(Archetype hijack) => Median(Of(hijack).Select(h => (double)h.SpamDelivered));

    public int MaxDelivered(Archetype hijack) => Of(hijack).Select(h => h.SpamDelivered).DefaultIfEmpty().Max();

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
