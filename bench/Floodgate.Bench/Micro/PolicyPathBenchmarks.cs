using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace Floodgate.Bench.Micro;

/// <summary>
/// The steady state of one policy connection: parse, decide against the three default rules in memory, answer DUNNO.
/// </summary>
/// <remarks>
/// The objects one connection keeps (parser, request, counts, answer buffer) are reused across requests; 1000 prebuilt
/// requests are cycled, each a new message (own queue_id and instance), <see cref="MessagesPerLogin"/> in a row from
/// one login and client as one smtpd process serves one client. Limits are raised so every message is accepted.
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 5)]
public class PolicyPathBenchmarks : PolicyPathBench
{
    /// <summary>Consecutive messages from one login: 1 = every message a new login, 1000 = one login throughout.</summary>
    [Params(1, 10, 1000)]
    public int MessagesPerLogin { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var requests = Start(PolicyPath.DefaultRules(burstMax: 1_000_000_000, otherMax: 1_000_000_000), i =>
        {
            var login = i / MessagesPerLogin;
            return PostfixDataRequest.Build(
                string.Create(CultureInfo.InvariantCulture, $"user{login}@example.com"), client: login, message: 0x3F2A41C0E5 + i);
        });

        // One pass first: every login's counters exist, as on a server that has been running a while.
        foreach (var request in requests)
        {
            Quiet.Handle(request);
            Logged.Handle(request);
            if (!Quiet.Answer.SequenceEqual("action=DUNNO\n\n"u8))
            {
                throw new InvalidOperationException("the steady-state benchmark expects every message to be accepted");
            }
        }
    }

    /// <summary>Parse, decide, answer, with the decision log off (log: none).</summary>
    [Benchmark(Baseline = true)]
    public int ParseDecideAnswer() => Quiet.Handle(NextRequest());

    /// <summary>The same with every decision line formatted into the log's buffer (written to a null stream).</summary>
    [Benchmark]
    public int ParseDecideAnswer_DecisionLog() => Logged.Handle(NextRequest());
}
