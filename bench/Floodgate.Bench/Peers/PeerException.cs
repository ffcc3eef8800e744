namespace Floodgate.Bench.Peers;

/// <summary>A server could not be installed, started or measured; the message says why, and the table reports it.</summary>
internal sealed class PeerException : Exception
{
    public PeerException(string message)
        : base(message)
    {
    }

    public PeerException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public PeerException()
    {
    }
}
