namespace Floodgate.Engine;

/// <summary>The shared store is unreachable and the deployment chose to fail closed: the answer is "defer".</summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException()
        : base("the shared store is unavailable (fail mode closed)")
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
