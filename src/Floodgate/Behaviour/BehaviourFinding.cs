namespace Floodgate.Behaviour;

/// <summary>What the behaviour watch found for one message of an account whose score acts.</summary>
/// <param name="Account">The account.</param>
/// <param name="Suspends">True for a suspension; false for probation (the message is held).</param>
/// <param name="Score">The score when it acted.</param>
/// <param name="Reason">The signals in plain words.</param>
/// <param name="Started">True when this message started the probation (or, for a suspension, when it is new).</param>
public sealed record BehaviourFinding(string Account, bool Suspends, double Score, string Reason, bool Started);
