using System.Globalization;
using System.Text;
using Floodgate.Eval.Corpus;

namespace Floodgate.Eval.Scoring;

/// <summary>The scorecards of one corpus as markdown tables, the configurations side by side.</summary>
public static class ScoreTable
{
    public static string Render(CorpusLabels labels, IReadOnlyList<Scorecard> cards)
    {
        var text = new StringBuilder();
        var spam = labels.Messages.Count(m => m.Spam);
        var hijacked = labels.Accounts.Count(a => a.HijackStart is not null);
        text.AppendLine(CultureInfo.InvariantCulture, $"Corpus: {labels.Accounts.Count} accounts over {labels.Days} days (seed {labels.Seed}), {N(labels.Messages.Count)} messages, {N(spam)} of them spam from {hijacked} hijacked accounts.");
        text.AppendLine();

        text.AppendLine("Spam messages delivered before containment (accepted, or held by probation and released), per hijacked account:");
        text.AppendLine();
        Header(text, cards, ["hijack", "accounts", "spam sent per account (median)"], ["contained (after, median)", "delivered, median / max", "recipients delivered (median)"]);
        foreach (var hijack in Archetypes.Hijacks)
        {
            var accounts = cards[0].Of(hijack).ToList();
            text.Append(CultureInfo.InvariantCulture, $"| {Archetypes.Name(hijack)} | {accounts.Count} | {N(Scorecard.Median(accounts.Select(a => (double)a.SpamSent)))} |");
            foreach (var card in cards)
            {
                var of = card.Of(hijack).ToList();
                var contained = of.Count(h => h.Contained);
                var before = of.Count(h => h.SuspendedBeforeStart);
                var after = of.Where(h => h.Contained && !h.SuspendedBeforeStart).Select(h => (h.SuspendedAt!.Value - h.Start).TotalSeconds).ToList();
                var when = after.Count == 0 ? "" : $" (after {Duration(TimeSpan.FromSeconds(Scorecard.Median(after)))})";
                text.Append(CultureInfo.InvariantCulture, $" {contained} of {of.Count}{when}{(before > 0 ? $", {before} suspended before it started" : "")} |"
                    + $" {N(card.MedianDelivered(hijack))} / {N(card.MaxDelivered(hijack))} | {N(Scorecard.Median(of.Select(h => (double)h.SpamRecipientsDelivered)))} |");
            }

            text.AppendLine();
        }

        text.AppendLine();
        text.Append("| legitimate mail |");
        foreach (var card in cards)
        {
            text.Append(CultureInfo.InvariantCulture, $" {card.Configuration} |");
        }

        text.AppendLine();
        text.Append("|:---|");
        text.AppendLine(string.Concat(cards.Select(_ => "---:|")));
        Row(text, cards, "account-days (legitimate mail only)", c => N(c.AccountDays));
        Row(text, cards, "messages", c => N(c.Legitimate.Sum(l => l.Messages)));
        Row(text, cards, "false suspensions", c => $"{c.FalseSuspensions.Count} ({c.FalseSuspensionsPerUnit.ToString("0.#", CultureInfo.InvariantCulture)} per {N(Scorecard.AccountDaysUnit)} account-days)");
        Row(text, cards, "messages deferred, rejected or held by a limit", c => N(c.Legitimate.Sum(l => l.RefusedByLimit)));
        Row(text, cards, "messages held by a false suspension", c => N(c.Legitimate.Sum(l => l.HeldBySuspension)));
        Row(text, cards, "messages put on probation", c => N(c.Legitimate.Sum(l => l.OnProbation)));
        Row(text, cards, "released from probation: waited median / max", c =>
        {
            var waits = c.Legitimate.SelectMany(l => l.ProbationWaits).ToList();
            return waits.Count == 0 ? "-" : $"{Duration(TimeSpan.FromSeconds(Scorecard.Median(waits.Select(w => w.TotalSeconds))))} / {Duration(waits.Max())}";
        });
        Row(text, cards, "on probation, never released", c => N(c.Legitimate.Sum(l => l.ProbationNeverReleased)));

        text.AppendLine();
        text.AppendLine("Per legitimate pattern (a hijacked account's mail before its hijack included):");
        text.AppendLine();
        Header(text, cards, ["pattern", "accounts", "messages"], ["false suspensions", "refused by a limit", "held by a suspension", "on probation"]);
        foreach (var pattern in Archetypes.Legitimate)
        {
            var first = cards[0].Pattern(pattern);
            text.Append(CultureInfo.InvariantCulture, $"| {Archetypes.Name(pattern)} | {first.Accounts} | {N(first.Messages)} |");
            foreach (var card in cards)
            {
                var p = card.Pattern(pattern);
                text.Append(CultureInfo.InvariantCulture, $" {p.Suspensions} | {N(p.RefusedByLimit)} | {N(p.HeldBySuspension)} | {N(p.OnProbation)} |");
            }

            text.AppendLine();
        }

        foreach (var card in cards.Where(c => c.FalseSuspensions.Count > 0))
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"False suspensions with {card.Configuration}:");
            text.AppendLine();
            foreach (var s in card.FalseSuspensions)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {s.Account} ({s.Pattern}) at {s.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z: {s.Cause}");
            }
        }

        text.AppendLine();
        foreach (var card in cards)
        {
            var missed = Targets.Missed(card);
            text.AppendLine(CultureInfo.InvariantCulture, $"Targets (every hijack contained, at most {Targets.MedianDelivered} spam messages delivered at the median and {Targets.MaxDelivered} at worst, at most {Targets.FalseSuspensionsPerUnit} false suspension per {Scorecard.AccountDaysUnit:#,0} account-days) with {card.Configuration}: {(missed.Count == 0 ? "all met" : $"missed by {string.Join(", ", missed)}")}.");
        }

        foreach (var card in cards.Where(c => c.UnknownEvents > 0))
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"{card.Configuration}: {card.UnknownEvents} event lines of kinds this scorer does not know were left out.");
        }

        return text.ToString();
    }

    // The corpus' own columns, then each configuration's, named after it.
    private static void Header(StringBuilder text, IReadOnlyList<Scorecard> cards, string[] fixedColumns, string[] names)
    {
        text.Append(CultureInfo.InvariantCulture, $"| {string.Join(" | ", fixedColumns)} |");
        foreach (var card in cards)
        {
            foreach (var name in names)
            {
                text.Append(CultureInfo.InvariantCulture, $" {card.Configuration}: {name} |");
            }
        }

        text.AppendLine();
        text.Append("|:---|");
        text.Append(string.Concat(Enumerable.Repeat("---:|", fixedColumns.Length - 1 + (cards.Count * names.Length))));
        text.AppendLine();
    }

    private static void Row(StringBuilder text, IReadOnlyList<Scorecard> cards, string name, Func<Scorecard, string> cell)
    {
        text.Append(CultureInfo.InvariantCulture, $"| {name} |");
        foreach (var card in cards)
        {
            text.Append(CultureInfo.InvariantCulture, $" {cell(card)} |");
        }

        text.AppendLine();
    }

    private static string N(double value) => value.ToString(value == Math.Floor(value) ? "#,0" : "#,0.0", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan span) => span.TotalSeconds < 60
        ? $"{span.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s"
        : span.TotalMinutes < 60 ? $"{span.TotalMinutes.ToString("0", CultureInfo.InvariantCulture)} min" : $"{span.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h";
}
