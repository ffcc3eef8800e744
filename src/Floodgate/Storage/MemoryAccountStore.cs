using System.Collections.Concurrent;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>Suspensions in process memory; they last until release or restart.</summary>
public sealed class MemoryAccountStore : IAccountStore
{
    private readonly ConcurrentDictionary<Identity, Suspension> _suspensions = new();

    public ValueTask<Suspension?> FindSuspensionAsync(IdentityKeys keys)
    {
        // Most deployments have no suspended identity at all: keep the common path to one volatile read.
        if (_suspensions.IsEmpty)
        {
            return ValueTask.FromResult<Suspension?>(null);
        }

        for (var scope = Scope.Account; scope <= Scope.ClientIp; scope++)
        {
            var key = keys[scope];

            // The engine derives the sender's domain only when a rule counts by it; a suspended domain (an admin's
            // or another node's) holds all the same.
            if (scope == Scope.SenderDomain && key is null && keys.Sender is { } sender && sender.LastIndexOf('@') is var at && at >= 0 && at < sender.Length - 1)
            {
                key = sender[(at + 1)..];
            }

            if (key is not null && _suspensions.TryGetValue(new Identity(scope, key), out var s))
            {
                return ValueTask.FromResult<Suspension?>(s);
            }
        }

        return ValueTask.FromResult<Suspension?>(null);
    }

    /// <summary>True when exactly this identity is suspended.</summary>
    public bool IsSuspended(Identity identity) => _suspensions.ContainsKey(identity);

    public ValueTask<bool> SuspendAsync(Suspension suspension) =>
        ValueTask.FromResult(_suspensions.TryAdd(suspension.Identity, suspension));

    public ValueTask<bool> ReleaseAsync(Identity identity) =>
        ValueTask.FromResult(_suspensions.TryRemove(identity, out _));

    public ValueTask<IReadOnlyList<Suspension>> ListSuspensionsAsync() =>
        ValueTask.FromResult<IReadOnlyList<Suspension>>([.. _suspensions.Values.OrderBy(s => s.Since)]);
}
