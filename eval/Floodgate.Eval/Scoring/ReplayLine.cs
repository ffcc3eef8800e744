namespace Floodgate.Eval.Scoring;

/// <summary>
/// One line of `floodgate replay --json`: a message not accepted (queue id, verdict, cause, the rule where one decided)
/// or an event of an account (suspended, probation, probation_ended).
/// </summary>
public sealed record ReplayLine(int Number, DateTimeOffset Time, string Account, string? QueueId, string? Verdict, string? Cause, string? Rule, string? Event)
{
    public const string Suspended = "suspended";

    public const string ProbationStarted = "probation";

    public const string ProbationEnded = "probation_ended";

    /// <summary>The rule name of a hold by the behaviour engine's probation (with a cause starting "probation: ").</summary>
    public const string BehaviourRule = "behaviour";

    /// <summary>True for a message held by probation: released, so delivered, if the probation ends by itself.</summary>
    public bool IsProbationHold => Event is null && Verdict == "hold" && Rule == BehaviourRule
        && Cause is not null && Cause.StartsWith("probation: ", StringComparison.Ordinal);

    /// <summary>True for a message refused because its account was already suspended.</summary>
    public bool IsSuspendedMail => Event is null && Cause is not null && Cause.StartsWith("suspended", StringComparison.Ordinal);
}
