using Floodgate.Engine;
using Floodgate.Incidents;

namespace Floodgate.Quarantine;

/// <summary>One place held mail sits (Postfix's hold queue, the relay's quarantine), as the held-mail ledger sees it.</summary>
public interface IHeldMail
{
    /// <summary>The place's name in answers and the audit log ("postfix hold queue", "relay quarantine").</summary>
    string Place { get; }

    /// <summary>Every message held for <paramref name="identity"/> here, or everything held here when it is null, oldest first.</summary>
    Task<IReadOnlyList<HeldMailEntry>> ListAsync(Identity? identity, int limit);

    /// <summary>How many messages are held for <paramref name="identity"/> here.</summary>
    Task<long> CountAsync(Identity identity);

    /// <summary>Delivers or purges every message held for <paramref name="identity"/> here; says what was done and what is left.</summary>
    Task<HeldMailRelease> ReleaseAsync(Identity identity, ReleaseMode mode, string by);
}
