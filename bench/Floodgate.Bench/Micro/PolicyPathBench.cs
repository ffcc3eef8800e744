using Floodgate.Configuration;
using Floodgate.Hosting;

namespace Floodgate.Bench.Micro;

/// <summary>
/// What the policy-path benchmarks share: one connection's path without a decision log and one formatting every
/// decision line (into a null stream), fed with prebuilt requests in a cycle.
/// </summary>
public abstract class PolicyPathBench
{
    protected const int RequestCount = 1000;

    private DecisionLog _noLog = null!;
    private DecisionLog _nullStreamLog = null!;
    private byte[][] _requests = [];
    private int _next;

    /// <summary>The path with the decision log off (log: none).</summary>
    private protected PolicyPath Quiet { get; private set; } = null!;

    /// <summary>The path with every decision line formatted.</summary>
    private protected PolicyPath Logged { get; private set; } = null!;

    [BenchmarkDotNet.Attributes.GlobalCleanup]
    public void Cleanup()
    {
        _noLog.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _nullStreamLog.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Builds both paths over <paramref name="options"/> and the <see cref="RequestCount"/> requests to cycle.</summary>
    private protected IReadOnlyList<byte[]> Start(FloodgateOptions options, Func<int, byte[]> request)
    {
        _noLog = DecisionLog.Open("none");
        _nullStreamLog = DecisionLog.To(Stream.Null);
        Quiet = new PolicyPath(options, _noLog);
        Logged = new PolicyPath(options, _nullStreamLog);
        _requests = [.. Enumerable.Range(0, RequestCount).Select(request)];
        _next = 0;
        return _requests;
    }

    protected byte[] NextRequest()
    {
        var bytes = _requests[_next];
        _next = _next + 1 == _requests.Length ? 0 : _next + 1;
        return bytes;
    }
}
