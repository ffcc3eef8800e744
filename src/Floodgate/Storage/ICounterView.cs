using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>What the admin surfaces read of the counters: which identities are counted, and their counts now.</summary>
public interface ICounterView
{
    /// <summary>The identities of a scope with live counters.</summary>
    Task<IReadOnlyList<string>> KeysAsync(Scope scope);

    /// <summary>Each rule's count for one identity at <paramref name="now"/> (-1 for rules of other scopes).</summary>
    Task<long[]> CountsOfAsync(Scope scope, string key, DateTimeOffset now);
}
