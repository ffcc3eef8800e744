using System.Buffers;

namespace Floodgate.Engine;

/// <summary>Decides accept, defer, hold or reject for every submission from its identities' counters, state and rules.</summary>
/// <remarks>Pure logic: no sockets, no files; time comes with the submission, which listeners stamp from a TimeProvider.</remarks>
public sealed class DecisionEngine
{
    private readonly ICounterStore _counters;
    private readonly IAccountStore _accounts;

    public DecisionEngine(RuleSet rules, ICounterStore counters, IAccountStore accounts, ExemptionTable? exemptions = null,
        OverrideTable? overrides = null)
    {
        Overrides = overrides ?? new OverrideTable();
        Rules = rules;
        _counters = counters;
        _accounts = accounts;
        Exemptions = exemptions ?? new ExemptionTable();
    }

    public RuleSet Rules { get; }

    /// <summary>Overrides set through the admin API; they win over the configuration's.</summary>
    public OverrideTable Overrides { get; }

    /// <summary>Time-limited exemptions (admin API); the configuration's permanent ones are in <see cref="Rules"/>.</summary>
    public ExemptionTable Exemptions { get; }

    /// <summary>
    /// True to decide every limit as enforce whatever its mode says (replay reports what enforcing would have done).
    /// </summary>
    public bool IgnoresModes { get; init; }

    /// <summary>
    /// Decides one submission. At <see cref="DecisionStage.Count"/> an accepted message is counted against every rule
    /// that applies; a refused one is counted nowhere. <paramref name="counts"/>, when given (one slot per rule), receives
    /// each rule's counter after the decision, or -1 where the rule did not apply. A limit in observe mode never refuses:
    /// the message is decided as if it had room there (and, accepted, counted there too, since it goes out), and the
    /// verdict it would have given is returned as <see cref="Decision.Observed"/> with an accept.
    /// </summary>
    public async ValueTask<Decision> DecideAsync(Submission submission, DecisionStage stage, long[]? counts = null)
    {
        var keys = IdentityKeys.Of(submission, Rules.Fallback, Rules.RulesIn(Scope.SenderDomain) > 0);
        counts?.AsSpan().Fill(-1);
        var exemption = Exemptions.Find(keys.Account, submission.Time);
        if (Rules.IsExempt(keys.Account) || exemption is { Max: null })
        {
            return new Decision(Verdict.Accept, DecisionCause.Exempt);
        }

        var observeAll = !IgnoresModes && Rules.Mode == EnforcementMode.Observe;
        Decision? observedSuspension = null;
        var suspension = await _accounts.FindSuspensionAsync(keys);
        if (suspension is not null)
        {
            var suspended = new Decision(Rules.SuspendedVerdict, DecisionCause.Suspended,
                Rule: FindRule(suspension.Rule), Identity: suspension.Identity, Suspension: suspension);
            if (!observeAll)
            {
                return suspended;
            }

            // The whole deployment observes: the suspended identity's mail goes out, so it is counted like any other.
            observedSuspension = Observe(suspended);
        }

        // One message to more recipients than any one message may have: refused, counted nowhere (in observe mode,
        // recorded as would-have and decided on like any other).
        if (observedSuspension is null && stage == DecisionStage.Count && Rules.RecipientCap is { } cap && (keys.Account ?? keys.Sender) is { } capped)
        {
            var allowed = !Overrides.IsEmpty && Overrides.TryGet(cap.Name, capped, out var set) ? set : cap.MaxFor(capped);
            if (submission.RecipientCount > allowed)
            {
                var tooMany = new Decision(Verdict.Reject, DecisionCause.TooManyRecipients, cap,
                    new Identity(keys.Account is null ? Scope.Sender : Scope.Account, capped), 0, submission.RecipientCount, allowed);
                if (!observeAll && cap.Mode != EnforcementMode.Observe)
                {
                    return tooMany;
                }

                observedSuspension = Observe(tooMany);
            }
        }

        var rules = Rules.Rules;
        var r = rules.Count;
        var charges = ArrayPool<CounterCharge>.Shared.Rent(r);
        // [0, n): each charge's count; [n, 2n): the units it adds (the store works out unique recipients'); from 2r on
        // each one's real limit (an observed charge tells the store none, a failed-recipients one tells it one less).
        var current = ArrayPool<long>.Shared.Rent(r * 3);
        ulong[]? hashes = null;
        try
        {
            // Where a rule needs the addresses: how many are external, and the distinct hashes for unique recipients.
            // An address the enforcement point could not name counts as external and as new.
            var known = submission.Recipients;
            var unknown = stage == DecisionStage.Check
                ? (known is { Count: > 0 } ? 0 : 1)
                : Math.Max(0, submission.RecipientCount - (known?.Count ?? 0));
            var external = Rules.UsesExternalRecipients ? ExternalOf(known) + unknown : 0;
            ReadOnlyMemory<ulong> distinct = default;
            if (Rules.UsesUniqueRecipients && known is { Count: > 0 })
            {
                hashes = ArrayPool<ulong>.Shared.Rent(known.Count);
                distinct = hashes.AsMemory(0, RecipientHashes.Distinct(known, hashes));
            }

            var n = 0;
            var observing = false;
            for (var i = 0; i < r; i++)
            {
                var rule = rules[i];
                var key = keys[rule.Scope];
                if (key is null)
                {
                    continue;
                }

                // At check stage the message's size is unknown: a limit is enforced only once it has no room at all.
                var units = rule.Unit switch
                {
                    LimitUnit.FailedRecipients => 0,
                    LimitUnit.UniqueRecipients => unknown,
                    LimitUnit.ExternalRecipients => external,
                    _ => stage == DecisionStage.Check ? 1 : rule.UnitsOf(submission.RecipientCount, submission.Size),
                };
                var max = !Overrides.IsEmpty && Overrides.TryGet(rule.Name, key, out var set) ? set : rule.MaxFor(key);
                if (exemption is { Max: { } raised } && rule.Scope == Scope.Account && raised > max)
                {
                    max = raised;
                }

                // An observed limit always has room in the store's eyes; whether it would have refused is checked below.
                // Failed recipients are counted later: the message fits while fewer than the maximum have failed.
                var observed = !IgnoresModes && (observeAll || rule.Mode == EnforcementMode.Observe);
                observing |= observed;
                current[(2 * r) + n] = max;
                var storeMax = observed ? long.MaxValue : rule.Unit == LimitUnit.FailedRecipients ? max - 1 : max;
                charges[n++] = new CounterCharge(rule, key, units, storeMax, rule.Unit == LimitUnit.UniqueRecipients ? distinct : default);
            }

            for (var i = 0; i < n; i++)
            {
                current[n + i] = charges[i].Units;
            }

            var commit = stage == DecisionStage.Count;
            var fits = await _counters.ChargeAsync(charges.AsMemory(0, n), current.AsMemory(0, 2 * n), submission.Time, commit);
            if (counts is not null)
            {
                for (var i = 0; i < n; i++)
                {
                    counts[charges[i].Rule.Index] = current[i] + (fits && commit ? current[n + i] : 0);
                }
            }

            var added = current.AsSpan(n, n);
            var limits = current.AsSpan(2 * r, n);
            if (!fits)
            {
                return await RefuseAsync(charges.AsSpan(0, n), current.AsSpan(0, n), added, limits, submission);
            }

            if (observedSuspension is { } already)
            {
                return already;
            }

            return observing && WouldRefuse(charges.AsSpan(0, n), current.AsSpan(0, n), added, limits, submission) is { } would
                ? would
                : new Decision(Verdict.Accept, DecisionCause.WithinLimits);
        }
        finally
        {
            ArrayPool<CounterCharge>.Shared.Return(charges, clearArray: true);
            ArrayPool<long>.Shared.Return(current);
            if (hashes is not null)
            {
                ArrayPool<ulong>.Shared.Return(hashes);
            }
        }
    }

    /// <summary>
    /// Counts <paramref name="failed"/> recipients of a message that failed for good (a next hop's 5xx, a log's bounce)
    /// against every failed-recipients limit of its identities, whatever their maximum: they act on its next message.
    /// </summary>
    public async ValueTask CountFailedAsync(Submission submission, int failed)
    {
        if (!Rules.UsesFailedRecipients || failed <= 0)
        {
            return;
        }

        var keys = IdentityKeys.Of(submission, Rules.Fallback, Rules.RulesIn(Scope.SenderDomain) > 0);
        if (Rules.IsExempt(keys.Account))
        {
            return;
        }

        var charges = new List<CounterCharge>();
        foreach (var rule in Rules.Rules)
        {
            if (rule.Unit == LimitUnit.FailedRecipients && keys[rule.Scope] is { } key)
            {
                charges.Add(new CounterCharge(rule, key, failed, long.MaxValue));
            }
        }

        if (charges.Count > 0)
        {
            await _counters.ChargeAsync(charges.ToArray(), new long[2 * charges.Count], submission.Time, commit: true);
        }
    }

    private int ExternalOf(IReadOnlyList<string>? recipients)
    {
        var external = 0;
        for (var i = 0; recipients is not null && i < recipients.Count; i++)
        {
            if (!Rules.LocalDomains.IsLocal(recipients[i]))
            {
                external++;
            }
        }

        return external;
    }

    /// <summary>
    /// True when a message adding <paramref name="units"/> to <paramref name="count"/> passes <paramref name="limit"/>;
    /// a failed-recipients limit is passed once the failures counted reach it.
    /// </summary>
    public static bool Exceeds(LimitRule rule, long count, long units, long limit) =>
        rule.Unit == LimitUnit.FailedRecipients ? count >= limit : count + units > limit;

    private static Decision Observe(in Decision enforced) => enforced with { Verdict = Verdict.Accept, Observed = enforced.Verdict };

    // What the observed limits (the charges the store was given no max for) would have answered, or null when they had room.
    private Decision? WouldRefuse(ReadOnlySpan<CounterCharge> charges, ReadOnlySpan<long> current, ReadOnlySpan<long> units, ReadOnlySpan<long> limits,
        in Submission submission)
    {
        var verdict = Worst(charges, current, units, limits, observed: true, out var decisive, out var suspending);
        if (decisive < 0)
        {
            return null;
        }

        var c = charges[decisive];
        var decision = new Decision(Verdict.Accept, DecisionCause.LimitExceeded, c.Rule, new Identity(c.Rule.Scope, c.Key),
            current[decisive], units[decisive], limits[decisive], Observed: verdict);

        // Nothing is stored: the suspension that would have been is only reported (an observe-only incident).
        return suspending < 0 ? decision : decision with
        {
            Suspension = SuspensionFor(charges[suspending], current[suspending], units[suspending], limits[suspending], submission),
        };
    }

    private ValueTask<Decision> RefuseAsync(ReadOnlySpan<CounterCharge> charges, ReadOnlySpan<long> current, ReadOnlySpan<long> units, ReadOnlySpan<long> limits,
        in Submission submission)
    {
        var verdict = Worst(charges, current, units, limits, observed: false, out var decisive, out var suspending);
        var c = charges[decisive];
        var decision = new Decision(verdict, DecisionCause.LimitExceeded, c.Rule, new Identity(c.Rule.Scope, c.Key),
            current[decisive], units[decisive], limits[decisive]);
        if (suspending < 0)
        {
            return ValueTask.FromResult(decision);
        }

        return SuspendAsync(decision, SuspensionFor(charges[suspending], current[suspending], units[suspending], limits[suspending], submission));
    }

    // Among the enforced charges (or only the observed ones: those the store was given no max for), the most severe
    // verdict of a limit this message would pass, the charge that decides it and the first suspending one (-1: none).
    private Verdict Worst(ReadOnlySpan<CounterCharge> charges, ReadOnlySpan<long> current, ReadOnlySpan<long> units, ReadOnlySpan<long> limits,
        bool observed, out int decisive, out int suspending)
    {
        decisive = suspending = -1;
        var verdict = Verdict.Accept;
        for (var i = 0; i < charges.Length; i++)
        {
            var charge = charges[i];
            if ((charge.Max == long.MaxValue) != observed || !Exceeds(charge.Rule, current[i], units[i], limits[i]))
            {
                continue;
            }

            var v = Rules.VerdictOf(charge.Rule.Action);
            if (v > verdict)
            {
                verdict = v;
                decisive = i;
            }

            if (charge.Rule.Action == LimitAction.Suspend && suspending < 0)
            {
                suspending = i;
            }
        }

        return verdict;
    }

    private static Suspension SuspensionFor(in CounterCharge s, long current, long units, long max, in Submission submission) =>
        new(new Identity(s.Rule.Scope, s.Key), submission.Time, s.Rule.Name,
            $"over limit {s.Rule.Name}: {current} of {max} {s.Rule.UnitText} per {s.Rule.WindowText} "
            + (s.Rule.Unit == LimitUnit.FailedRecipients ? "reached" : $"used, next message adds {units}")
            + OriginOf(submission),
            "floodgate");

    /// <summary>What a suspension's reason says of who sent the mail that tripped it, when nobody logged in.</summary>
    public static string OriginOf(in Submission submission) => submission.HasLogin
        ? ""
        : submission.Trust == ClientTrust.Trusted
            ? $"; no login was involved: mail from the trusted network address {submission.ClientAddress ?? "-"} counted by its envelope sender"
            : $"; no login was involved: mail from the untrusted client {submission.ClientAddress ?? "-"}, whose envelope sender may be forged";

    private async ValueTask<Decision> SuspendAsync(Decision decision, Suspension suspension)
    {
        var newly = await _accounts.SuspendAsync(suspension);
        return decision with { NewlySuspended = newly, Suspension = suspension };
    }

    private LimitRule? FindRule(string? name)
    {
        foreach (var rule in Rules.Rules)
        {
            if (rule.Name == name)
            {
                return rule;
            }
        }

        return null;
    }
}
