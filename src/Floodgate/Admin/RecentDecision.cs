using Floodgate.Engine;

namespace Floodgate.Admin;

/// <summary>One decision kept for an account's page: where it was asked, what was submitted and what was answered.</summary>
public readonly record struct RecentDecision(string Listener, DecisionStage Stage, Submission Submission, Decision Decision);
