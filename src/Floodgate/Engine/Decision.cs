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
/// <param name="Suspension">The suspension in force, where the cause is one.</param>
public readonly record struct Decision(
    Verdict Verdict,
    DecisionCause Cause,
    LimitRule? Rule = null,
    Identity? Identity = null,
    long Count = 0,
    long Units = 0,
    long Max = 0,
    bool NewlySuspended = false,
    Suspension? Suspension = null)
{
    /// <summary>A sentence an admin (or, trimmed, the sender) can read.</summary>
    public string Reason => Cause switch
    {
        DecisionCause.WithinLimits => "within limits",
        DecisionCause.Exempt => "exempt from limits",
        DecisionCause.Suspended => Suspension!.Summary,
        DecisionCause.StoreUnavailable => "the shared store is unavailable (fail mode closed)",
        DecisionCause.Failed => "the decision failed inside Floodgate (answered by the fail mode)",
        _ =>
            $"{Identity} has sent {Count} of {Max} {Rule!.UnitText} allowed per {Rule.WindowText}"
            + $" and this message adds {Units} (rule {Rule.Name})" + (Suspension is null ? "" : $"; {Suspension.Identity} suspended"),
    };
}
