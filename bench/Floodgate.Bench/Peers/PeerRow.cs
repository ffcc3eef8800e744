using Floodgate.Bench.Load;

namespace Floodgate.Bench.Peers;

/// <summary>One server's run at one connection count (runs are numbered from 1 in --connections order): what it measured, or why not.</summary>
internal sealed record PeerRow(string Server, bool IsFloodgate, int Run, int Connections, LoadRunResult? Result, EnforcementCheck? Check, string? Failure);
