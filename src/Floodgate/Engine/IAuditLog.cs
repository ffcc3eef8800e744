namespace Floodgate.Engine;

/// <summary>The audit log of admin actions (suspend, release, exempt...).</summary>
public interface IAuditLog
{
    Task AppendAsync(AuditEntry entry);

    Task<IReadOnlyList<AuditEntry>> ListAsync(int limit);
}
