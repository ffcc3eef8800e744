namespace Floodgate.Policy;

/// <summary>The peer broke the policy protocol: the session logs why and closes the connection (Postfix reconnects).</summary>
public sealed class PolicyProtocolException : Exception
{
    public PolicyProtocolException()
    {
    }

    public PolicyProtocolException(string message)
        : base(message)
    {
    }

    public PolicyProtocolException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
