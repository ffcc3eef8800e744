using BenchmarkDotNet.Attributes;
using Floodgate.Hosting;

namespace Floodgate.Bench.Micro;

/// <summary>
/// One login over its limit and still sending (a compromised account in a loop): every request is parsed, decided and
/// answered DEFER_IF_PERMIT, the path that matters most during the incidents Floodgate exists for.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 5)]
public class OverLimitBenchmarks
{
    private const int RequestCount = 1000;

    private DecisionLog _noLog = null!;
    private DecisionLog _nullStreamLog = null!;
    private PolicyPath _quiet = null!;
    private PolicyPath _logged = null!;
    private byte[][] _requests = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        // The default rules with burst (action defer) at 0: every message is deferred and none suspends.
        var options = PolicyPath.DefaultRules(burstMax: 0, otherMax: 1_000_000_000);
        _noLog = DecisionLog.Open("none");
        _nullStreamLog = DecisionLog.To(Stream.Null);
        _quiet = new PolicyPath(options, _noLog);
        _logged = new PolicyPath(options, _nullStreamLog);

        _requests = new byte[RequestCount][];
        for (var i = 0; i < RequestCount; i++)
        {
            _requests[i] = PostfixDataRequest.Build("user42@example.com", client: 42, message: 0x3F2A41C0E5 + i);
        }

        _quiet.Handle(_requests[0]);
        _logged.Handle(_requests[0]);
        if (!_quiet.Answer.StartsWith("action=DEFER_IF_PERMIT "u8))
        {
            throw new InvalidOperationException("the over-limit benchmark expects every message to be deferred");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _noLog.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _nullStreamLog.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Parse, decide, answer DEFER_IF_PERMIT, with the decision log off.</summary>
    [Benchmark(Baseline = true)]
    public int ParseDecideDefer() => _quiet.Handle(NextRequest());

    /// <summary>The same with the decision line (which carries the reason) formatted into the log's buffer.</summary>
    [Benchmark]
    public int ParseDecideDefer_DecisionLog() => _logged.Handle(NextRequest());

    private byte[] NextRequest()
    {
        var bytes = _requests[_next];
        _next = _next + 1 == _requests.Length ? 0 : _next + 1;
        return bytes;
    }
}
