using System.Diagnostics;

namespace Floodgate.Bench.Load;

/// <summary>What one run measured, merged over its connections.</summary>
internal sealed record LoadRunResult
{
    public required int Run { get; init; }

    public required int Connections { get; init; }

    public required int Requests { get; init; }

    public required double Seconds { get; init; }

    /// <summary>Per-request latencies in Stopwatch ticks, sorted.</summary>
    public required long[] SortedLatencies { get; init; }

    /// <summary>Accepting answers: DUNNO or OK, in any case.</summary>
    public required long Accepts { get; init; }

    public required long Deferred { get; init; }

    public required long Unexpected { get; init; }

    public string? FirstUnexpected { get; init; }

    /// <summary>Requests sent per user, over all connections.</summary>
    public required int[] Sent { get; init; }

    /// <summary>Accepting answers per user, over all connections.</summary>
    public required int[] Accepted { get; init; }

    /// <summary>Bytes allocated by the whole process (client and, in process, server) per request.</summary>
    public required double AllocatedPerRequest { get; init; }

    public required int Gen0 { get; init; }

    public required int Gen1 { get; init; }

    public required int Gen2 { get; init; }

    /// <summary>"PASS", "FAIL: ..." or null when not checked.</summary>
    public string? Check { get; init; }

    public double RequestsPerSecond => Requests / Seconds;

    public long Other => Deferred + Unexpected;

    /// <summary>The latency at quantile <paramref name="q"/> (nearest rank) in milliseconds.</summary>
    public double LatencyMs(double q)
    {
        var rank = (int)Math.Ceiling(q * SortedLatencies.Length) - 1;
        var ticks = SortedLatencies[Math.Clamp(rank, 0, SortedLatencies.Length - 1)];
        return ticks * 1000.0 / Stopwatch.Frequency;
    }
}
