namespace Floodgate.Engine;

/// <summary>One admin action: who did what to which account, and when.</summary>
public sealed record AuditEntry(DateTimeOffset At, string Actor, string Action, string Target, string? Detail);
