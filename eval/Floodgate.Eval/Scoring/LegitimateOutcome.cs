using Floodgate.Eval.Corpus;

namespace Floodgate.Eval.Scoring;

/// <summary>
/// What became of one legitimate pattern's mail (a hijacked account's up to its hijack included): suspensions, mail a
/// limit refused or held, mail held because of a suspension, and probation's holds with how long released ones waited.
/// </summary>
public sealed class LegitimateOutcome(Archetype pattern)
{
    public Archetype Pattern { get; } = pattern;

    public int Accounts { get; set; }

    public int AccountDays { get; set; }

    public int Messages { get; set; }

    public int Suspensions { get; set; }

    /// <summary>Deferred, rejected or held by a limit (not probation, not an earlier suspension).</summary>
    public int RefusedByLimit { get; set; }

    /// <summary>Held because the account had been suspended (falsely: it was not hijacked).</summary>
    public int HeldBySuspension { get; set; }

    public int OnProbation { get; set; }

    /// <summary>How long each message released from probation waited.</summary>
    public List<TimeSpan> ProbationWaits { get; } = [];

    /// <summary>Held by probation and never released: still held at the end, or held on when the account was suspended.</summary>
    public int ProbationNeverReleased => OnProbation - ProbationWaits.Count;
}
