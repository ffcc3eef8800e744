using System.Net;

namespace Floodgate.Bench.Peers;

/// <summary>
/// A policy server started by someone else (another build, other settings) and named on the command line with
/// --external NAME=HOST:PORT: measured and checked like the others, its rule assumed to be the comparison's.
/// </summary>
internal sealed class ExternalServer(string name, IPEndPoint endpoint) : PolicyServer(name, "ext", PostfixState.Data, endpoint)
{
    public override Task StartAsync(TimeSpan timeout, CancellationToken cancel)
    {
        Setup = $"started outside this tool, listening on {Endpoint}; assumed rule: the comparison's";
        return WaitUntilListeningAsync(timeout, cancel);
    }

    public override string? Failure() => null;

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
