using System.Net;

namespace Floodgate.Bench.Peers;

/// <summary>
/// A policy server started by someone else (another build, other settings) and named on the command line with
/// --external NAME=HOST:PORT: measured and checked like the others, its rule assumed to be the comparison's.
/// </summary>
/// <param name="name">The row label.</param>
/// <param name="endpoint">Where it listens.</param>
/// <param name="index">Its place among the external servers: each gets logins of its own, even two that are one server.</param>
internal sealed class ExternalServer(string name, IPEndPoint endpoint, int index)
    : PolicyServer(name, $"ext{index}", PostfixState.Data, endpoint)
{
    public override Task StartAsync(TimeSpan timeout, CancellationToken cancel)
    {
        Setup = $"started outside this tool, listening on {Endpoint}; assumed rule: the comparison's";
        return WaitUntilListeningAsync(timeout, cancel);
    }

    public override string? Failure() => null;

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
