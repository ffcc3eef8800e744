using System.Globalization;
using Floodgate.Eval.Corpus;

namespace Floodgate.Eval.Scoring;

/// <summary>
/// Issue 14's targets for containing hijacks: every hijack archetype contained; at most 5 spam messages delivered per
/// hijack at the median and 20 at worst; at most 1 false suspension per 10,000 legitimate account-days.
/// </summary>
public static class Targets
{
    public const int MedianDelivered = 5;

    public const int MaxDelivered = 20;

    public const double FalseSuspensionsPerUnit = 1;

    /// <summary>Each hijack archetype that misses its targets and the false suspensions if they do, in words; empty when all are met.</summary>
    public static IReadOnlyList<string> Missed(Scorecard card)
    {
        var missed = new List<string>();
        foreach (var hijack in Archetypes.Hijacks)
        {
            var of = card.Of(hijack).ToList();
            var name = Archetypes.Name(hijack);
            if (of.Count == 0)
            {
                missed.Add($"{name}: no account of it in the corpus");
                continue;
            }

            // Suspended before it started is a false suspension that happened to hold the spam: not a containment.
            var contained = of.Count(h => h.Contained && !h.SuspendedBeforeStart);
            var median = card.MedianDelivered(hijack);
            var max = card.MaxDelivered(hijack);
            if (contained < of.Count || median > MedianDelivered || max > MaxDelivered)
            {
                missed.Add(string.Create(CultureInfo.InvariantCulture, $"{name} ({contained} of {of.Count} contained, {median:#,0.#} / {max:#,0} delivered)"));
            }
        }

        if (card.FalseSuspensionsPerUnit > FalseSuspensionsPerUnit)
        {
            missed.Add(string.Create(CultureInfo.InvariantCulture, $"false suspensions ({card.FalseSuspensionsPerUnit:0.#} per {Scorecard.AccountDaysUnit:#,0} account-days)"));
        }

        return missed;
    }
}
