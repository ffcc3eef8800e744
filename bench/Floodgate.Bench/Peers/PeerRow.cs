using Floodgate.Bench.Load;

namespace Floodgate.Bench.Peers;

/// <summary>
/// One server at one connection count (runs are numbered from 1 in --connections order): what each round measured,
/// or why it was not measured.
/// </summary>
internal sealed class PeerRow(string server, bool isFloodgate, bool enforces, int run, int connections)
{
    public string Server { get; } = server;

    public bool IsFloodgate { get; } = isFloodgate;

    /// <summary>Whether the server enforces the rule, so its answers are checked (the ceiling does not).</summary>
    public bool Enforces { get; } = enforces;

    public int Run { get; } = run;

    public int Connections { get; } = connections;

    /// <summary>One result per round measured, with its check.</summary>
    public List<LoadRunResult> Results { get; } = [];

    public List<EnforcementCheck> Checks { get; } = [];

    public string? Failure { get; set; }

    public static PeerRow Failed(PolicyServer server, bool isFloodgate, int run, int connections, string why) =>
        new(server.Name, isFloodgate, server.Enforces, run, connections) { Failure = why };
}
