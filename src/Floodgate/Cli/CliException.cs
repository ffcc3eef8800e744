namespace Floodgate.Cli;

/// <summary>A CLI verb could not do its work; the message says why, in one line.</summary>
public sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
