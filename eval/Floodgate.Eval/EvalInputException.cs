namespace Floodgate.Eval;

/// <summary>A labels file or a replay's output that cannot be scored: the message says which file, which line, and what is wrong.</summary>
public sealed class EvalInputException(string message) : Exception(message);
