namespace Floodgate.Engine;

/// <summary>Where account state (suspensions) lives: memory here, durable stores later.</summary>
public interface IAccountStore
{
    /// <summary>The suspension that applies to any of a submission's identities, or null.</summary>
    ValueTask<Suspension?> FindSuspensionAsync(IdentityKeys keys);

    /// <summary>Suspends an identity; false when it was already suspended (the earlier suspension stays).</summary>
    ValueTask<bool> SuspendAsync(Suspension suspension);

    /// <summary>Lifts a suspension; false when the identity was not suspended.</summary>
    ValueTask<bool> ReleaseAsync(Identity identity);

    /// <summary>Every current suspension.</summary>
    ValueTask<IReadOnlyList<Suspension>> ListSuspensionsAsync();
}
