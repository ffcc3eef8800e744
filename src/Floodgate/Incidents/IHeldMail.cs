using Floodgate.Engine;

namespace Floodgate.Incidents;

/// <summary>A place besides Postfix's hold queue where an identity's mail is held (the relay's quarantine).</summary>
public interface IHeldMail
{
    /// <summary>Delivers or purges every message held for <paramref name="identity"/>; returns how many.</summary>
    Task<int> ReleaseAsync(Identity identity, ReleaseMode mode, string by);
}
