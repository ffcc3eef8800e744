using Floodgate.Engine;

namespace Floodgate.Hosting;

/// <summary>What a reload did: applied (with the modes now in force and the changed keys that wait for a restart) or refused, and why.</summary>
/// <param name="Applied">False when the file was refused and nothing changed.</param>
/// <param name="Problem">Why it was refused.</param>
/// <param name="Mode">The deployment's mode now.</param>
/// <param name="ObservedLimits">The limits whose verdicts are only recorded now.</param>
/// <param name="RestartNeeded">Changed keys (limits as limits.NAME) that a reload does not apply.</param>
public sealed record ReloadOutcome(bool Applied, string? Problem, EnforcementMode Mode, IReadOnlyList<string> ObservedLimits, IReadOnlyList<string> RestartNeeded)
{
    /// <summary>A refused reload: <paramref name="running"/>'s modes stay in force.</summary>
    public static ReloadOutcome Refused(string problem, RuleSet running) => new(false, problem, running.Mode, [.. running.Observed.Select(r => r.Name)], []);
}
