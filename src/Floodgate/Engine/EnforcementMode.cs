namespace Floodgate.Engine;

/// <summary>Whether a limit's verdicts are carried out or only recorded as what would have happened.</summary>
public enum EnforcementMode
{
    /// <summary>Verdicts are answered: mail is deferred, held or rejected, and identities are suspended.</summary>
    Enforce = 0,

    /// <summary>
    /// Every decision is made, logged, counted and alerted on as "would have", but the answer is accept and nothing
    /// is suspended: a trial run on live traffic.
    /// </summary>
    Observe = 1,
}
