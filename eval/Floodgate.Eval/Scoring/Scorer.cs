using Floodgate.Eval.Corpus;

namespace Floodgate.Eval.Scoring;

/// <summary>
/// Scores a replay's JSON lines against a corpus' labels. A message is delivered unless a line says it was not
/// accepted; a message held by probation is delivered at its account's probation_ended (every probation hold since
/// the probation started), and not if the account is suspended first or the log ends. Lines that do not fit the
/// labels (an unknown queue id or account, a queue id twice, a message under another account) are errors: they mean
/// the replay did not read the corpus the labels describe.
/// </summary>
public static class Scorer
{
    public static Scorecard Score(CorpusLabels labels, IEnumerable<ReplayLine> lines, string configuration, string source = "replay output")
    {
        var accounts = labels.Accounts.ToDictionary(a => a.Account, StringComparer.Ordinal);
        var messages = labels.Messages.ToDictionary(m => m.QueueId, StringComparer.Ordinal);
        var refused = new Dictionary<string, ReplayLine>(StringComparer.Ordinal);
        var released = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var probation = new Dictionary<string, List<ReplayLine>>(StringComparer.Ordinal);
        var suspended = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var falseSuspensions = new List<FalseSuspension>();
        var unknownEvents = 0;
        foreach (var line in lines)
        {
            if (!accounts.TryGetValue(line.Account, out var account))
            {
                throw new EvalInputException($"{source}:{line.Number}: account {line.Account} is not in the labels");
            }

            switch (line.Event)
            {
                case null:
                    if (!messages.TryGetValue(line.QueueId!, out var message))
                    {
                        throw new EvalInputException($"{source}:{line.Number}: queue id {line.QueueId} is not in the labels");
                    }

                    if (message.Account != line.Account)
                    {
                        throw new EvalInputException($"{source}:{line.Number}: queue id {line.QueueId} is {message.Account}'s in the labels, not {line.Account}'s");
                    }

                    if (!refused.TryAdd(line.QueueId!, line))
                    {
                        throw new EvalInputException($"{source}:{line.Number}: queue id {line.QueueId} is decided twice");
                    }

                    if (line.IsProbationHold)
                    {
                        Held(probation, line.Account).Add(line);
                    }

                    break;
                case ReplayLine.Suspended:
                    if (suspended.TryAdd(line.Account, line.Time) && (account.HijackStart is not { } start || line.Time < start))
                    {
                        falseSuspensions.Add(new FalseSuspension(line.Account, account.Pattern, line.Time, line.Cause));
                    }

                    // What probation held stays held: a suspended account's mail waits for the admin.
                    probation.Remove(line.Account);
                    break;
                case ReplayLine.ProbationStarted:
                    Held(probation, line.Account);
                    break;
                case ReplayLine.ProbationEnded:
                    if (probation.Remove(line.Account, out var held))
                    {
                        foreach (var h in held)
                        {
                            released[h.QueueId!] = line.Time;
                        }
                    }

                    break;
                default:
                    unknownEvents++;
                    break;
            }
        }

        return Tally(labels, accounts, refused, released, suspended, falseSuspensions, configuration, unknownEvents);
    }

    private static List<ReplayLine> Held(Dictionary<string, List<ReplayLine>> probation, string account)
    {
        if (!probation.TryGetValue(account, out var held))
        {
            probation[account] = held = [];
        }

        return held;
    }

    private static Scorecard Tally(CorpusLabels labels, Dictionary<string, LabelledAccount> accounts, Dictionary<string, ReplayLine> refused,
        Dictionary<string, DateTimeOffset> released, Dictionary<string, DateTimeOffset> suspended, List<FalseSuspension> falseSuspensions,
        string configuration, int unknownEvents)
    {
        var legitimate = Archetypes.Legitimate.ToDictionary(a => a, a => new LegitimateOutcome(a));
        var hijacks = new Dictionary<string, (int Sent, int Recipients, int Delivered, int RecipientsDelivered)>(StringComparer.Ordinal);
        foreach (var a in labels.Accounts)
        {
            var pattern = Archetypes.Parse(a.Pattern);
            var outcome = legitimate[pattern];
            outcome.Accounts++;
            outcome.AccountDays += Math.Max(0, a.LegitimateDays);
            hijacks[a.Account] = default;
        }

        foreach (var s in falseSuspensions)
        {
            var pattern = Archetypes.Parse(s.Pattern);
            legitimate[pattern].Suspensions++;
        }

        foreach (var m in labels.Messages)
        {
            var account = accounts[m.Account];
            var line = refused.GetValueOrDefault(m.QueueId);
            var delivered = line is null || released.ContainsKey(m.QueueId);
            if (m.Spam)
            {
                var h = hijacks[m.Account];
                hijacks[m.Account] = (h.Sent + 1, h.Recipients + m.Recipients, h.Delivered + (delivered ? 1 : 0), h.RecipientsDelivered + (delivered ? m.Recipients : 0));
                continue;
            }

            // A hijacked account's own mail after the hijack started is contained with it, rightly: not counted here.
            if (account.HijackStart is { } start && m.Time >= start)
            {
                continue;
            }

            var pattern = Archetypes.Parse(account.Pattern);
            var outcome = legitimate[pattern];
            outcome.Messages++;
            if (line is null)
            {
                continue;
            }

            if (line.IsProbationHold)
            {
                outcome.OnProbation++;
                if (released.TryGetValue(m.QueueId, out var at))
                {
                    outcome.ProbationWaits.Add(at - line.Time);
                }
            }
            else if (line.IsSuspendedMail)
            {
                outcome.HeldBySuspension++;
            }
            else
            {
                outcome.RefusedByLimit++;
            }
        }

        var outcomes = labels.Accounts.Where(a => a.HijackStart is not null).Select(a =>
        {
            var archetype = Archetypes.Parse(a.Archetype);
            var h = hijacks[a.Account];
            return new HijackOutcome(a.Account, archetype, a.HijackStart!.Value, h.Sent, h.Recipients, h.Delivered, h.RecipientsDelivered,
                suspended.TryGetValue(a.Account, out var at) ? at : null);
        }).ToList();
        return new Scorecard
        {
            Configuration = configuration,
            Hijacks = outcomes,
            Legitimate = [.. legitimate.Values],
            FalseSuspensions = falseSuspensions,
            UnknownEvents = unknownEvents,
        };
    }
}
