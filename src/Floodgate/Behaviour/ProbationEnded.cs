namespace Floodgate.Behaviour;

/// <summary>A probation that ended by itself: the score fell back after the probation time, so the mail it held goes out.</summary>
/// <param name="Account">The account.</param>
/// <param name="At">When it ended.</param>
/// <param name="Since">When it began.</param>
/// <param name="Held">Messages it held.</param>
/// <param name="Reason">In plain words, for the log and replay.</param>
public sealed record ProbationEnded(string Account, DateTimeOffset At, DateTimeOffset Since, int Held, string Reason);
