namespace Floodgate.Relay;

/// <summary>What the spool held at start: the messages, how many unacknowledged files were removed, what could not be read.</summary>
public sealed record SpoolRecovery(IReadOnlyList<SpooledMessage> Messages, int Removed, IReadOnlyList<string> Unreadable);
