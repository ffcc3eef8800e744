namespace Floodgate.Engine;

/// <summary>The engine's verdict for one submission, with the rule and counter behind it.</summary>
/// <param name="Verdict">What to do with the message.</param>
/// <param name="Cause">Why.</param>
/// <param name="Rule">The rule that decided (for a suspension, the rule that tripped it), or null.</param>
/// <param name="Identity">The identity whose counter or state decided, or null when within limits.</param>
/// <param name="Count">The deciding counter's value before this message.</param>
/// <param name="Units">Units this message would have added to it.</param>
/// <param name="Max">The deciding limit.</param>
/// <param name="NewlySuspended">True when this decision suspended <paramref name="Identity"/>.</param>
/// <param name="Suspension">The suspension in force, where the cause is one; for an observed decision, the suspension that would have been.</param>
/// <param name="Observed">
/// What enforce mode would have answered where an observing limit (or the deployment's observe mode) turned the
/// verdict into accept; <see cref="Verdict.Accept"/> when nothing was observed.
/// </param>
public readonly record struct Decision(
    Verdict Verdict,
    DecisionCause Cause,
    LimitRule? Rule = null,
    Identity? Identity = null,
    long Count = 0,
    long Units = 0,
    long Max = 0,
    bool NewlySuspended = false,
    Suspension? Suspension = null,
    Verdict Observed = Verdict.Accept)
{
    /// <summary>True when the answer is accept only because of observe mode: <see cref="Observed"/> says what it would have been.</summary>
    public bool IsObserved => Observed != Verdict.Accept;

    /// <summary>What the account's behaviour profile found, where it decided (probation or a behaviour suspension).</summary>
    public Behaviour.BehaviourFinding? Behaviour { get; init; }

    /// <summary>True when an observed decision would have suspended <see cref="Suspension"/>'s identity.</summary>
    public bool WouldSuspend => Observed != Verdict.Accept && Cause is DecisionCause.LimitExceeded or DecisionCause.Behaviour && Suspension is not null;

    /// <summary>A sentence an admin (or, trimmed, the sender) can read.</summary>
    public string Reason => Observed == Verdict.Accept ? Enforced : $"observe mode, not enforced: {ScopeNames.WouldHave(Observed)}: {Enforced}";

    private string SuspendedText => Suspension is null ? "" : $"; {Suspension.Identity} {(Observed == Verdict.Accept ? "suspended" : "would have been suspended")}";

    private string Enforced => Cause switch
    {
        DecisionCause.WithinLimits => "within limits",
        DecisionCause.Exempt => "exempt from limits",
        DecisionCause.Suspended => Suspension!.Summary,
        DecisionCause.StoreUnavailable => "the shared store is unavailable (fail mode closed)",
        DecisionCause.Failed => "the decision failed inside Floodgate (answered by the fail mode)",
        DecisionCause.Probation => "probation: " + Behaviour!.Reason,
        DecisionCause.Behaviour => $"{Identity} {(Observed == Verdict.Accept ? "suspended" : "would have been suspended")}: {Suspension!.Reason}",
        DecisionCause.TooManyRecipients => $"{Identity} sent one message to {Units} recipients, more than the {Max} allowed in one message ({Rule!.Name})",
        _ when Rule?.Unit == LimitUnit.FailedRecipients =>
            $"{Identity} has had {Count} recipients fail for good, the most allowed per {Rule.WindowText} being {Max} (rule {Rule.Name})"
            + SuspendedText,
        _ =>
            $"{Identity} has sent {Count} of {Max} {Rule!.UnitText} allowed per {Rule.WindowText}"
            + $" and this message adds {Units} (rule {Rule.Name})" + SuspendedText,
    };
}
