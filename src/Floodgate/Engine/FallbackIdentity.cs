namespace Floodgate.Engine;

/// <summary>What stands for the account when the client did not authenticate.</summary>
public enum FallbackIdentity
{
    Sender,
    ClientIp,

    /// <summary>Unauthenticated mail has no account; account-scoped rules do not apply to it.</summary>
    None,
}
