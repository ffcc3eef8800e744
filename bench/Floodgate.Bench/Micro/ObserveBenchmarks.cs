using BenchmarkDotNet.Attributes;
using Floodgate.Engine;

namespace Floodgate.Bench.Micro;

/// <summary>
/// The over-limit login of <see cref="OverLimitBenchmarks"/> with the deployment in observe mode: every request is
/// parsed, decided as deferred, counted and answered DUNNO, with the would-have verdict in the decision line.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 5)]
public class ObserveBenchmarks : PolicyPathBench
{
    [GlobalSetup]
    public void Setup()
    {
        var options = PolicyPath.DefaultRules(burstMax: 0, otherMax: 1_000_000_000);
        options.Rules.Mode = EnforcementMode.Observe;
        var requests = Start(options, i => PostfixDataRequest.Build("user42@example.com", client: 42, message: 0x3F2A41C0E5 + i));
        Quiet.Handle(requests[0]);
        Logged.Handle(requests[0]);
        if (!Quiet.Answer.StartsWith("action=DUNNO"u8))
        {
            throw new InvalidOperationException("the observe benchmark expects every message to be answered DUNNO");
        }
    }

    /// <summary>Parse, decide (would have deferred), count, answer DUNNO, with the decision log off.</summary>
    [Benchmark(Baseline = true)]
    public int ParseDecideObserve() => Quiet.Handle(NextRequest());

    /// <summary>The same with the decision line (mode=observe would_have=defer and the reason) formatted.</summary>
    [Benchmark]
    public int ParseDecideObserve_DecisionLog() => Logged.Handle(NextRequest());
}
