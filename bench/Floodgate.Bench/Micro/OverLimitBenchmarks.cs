using BenchmarkDotNet.Attributes;

namespace Floodgate.Bench.Micro;

/// <summary>
/// One login over its limit and still sending (a compromised account in a loop): every request is parsed, decided and
/// answered DEFER_IF_PERMIT, the path that matters most during the incidents Floodgate exists for.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 5)]
public class OverLimitBenchmarks : PolicyPathBench
{
    [GlobalSetup]
    public void Setup()
    {
        // The default rules with burst (action defer) at 0: every message is deferred and none suspends.
        var requests = Start(PolicyPath.DefaultRules(burstMax: 0, otherMax: 1_000_000_000),
            i => PostfixDataRequest.Build("user42@example.com", client: 42, message: 0x3F2A41C0E5 + i));
        Quiet.Handle(requests[0]);
        Logged.Handle(requests[0]);
        if (!Quiet.Answer.StartsWith("action=DEFER_IF_PERMIT "u8))
        {
            throw new InvalidOperationException("the over-limit benchmark expects every message to be deferred");
        }
    }

    /// <summary>Parse, decide, answer DEFER_IF_PERMIT, with the decision log off.</summary>
    [Benchmark(Baseline = true)]
    public int ParseDecideDefer() => Quiet.Handle(NextRequest());

    /// <summary>The same with the decision line (which carries the reason) formatted into the log's buffer.</summary>
    [Benchmark]
    public int ParseDecideDefer_DecisionLog() => Logged.Handle(NextRequest());
}
