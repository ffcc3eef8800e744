namespace Floodgate.Admin;

/// <summary>What was decided in one minute: messages let through, their recipients, and messages refused.</summary>
public readonly record struct MinuteTraffic(DateTimeOffset Start, long Messages, long Recipients, long Refused);
