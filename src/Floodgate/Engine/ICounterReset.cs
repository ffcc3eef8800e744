namespace Floodgate.Engine;

/// <summary>Empties an identity's windows in one counter store (a released account starts afresh).</summary>
public interface ICounterReset
{
    Task ResetAsync(Identity identity);
}
