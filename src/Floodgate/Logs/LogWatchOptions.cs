namespace Floodgate.Logs;

/// <summary>One live log file the log watch follows (listen.log).</summary>
/// <param name="Path">The file's full path (the live name; rotations are followed).</param>
/// <param name="Format">Which server wrote it.</param>
public sealed record LogWatchOptions(string Path, LogFormat Format);
