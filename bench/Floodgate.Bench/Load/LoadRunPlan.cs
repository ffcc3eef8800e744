namespace Floodgate.Bench.Load;

/// <summary>One measured run: its connections, requests and logins, and optionally an unmeasured warm-up on the same connections.</summary>
internal sealed record LoadRunPlan
{
    /// <summary>The run's number in the report.</summary>
    public required int Run { get; init; }

    public required int Connections { get; init; }

    /// <summary>Measured requests, spread over the connections.</summary>
    public required int Requests { get; init; }

    /// <summary>The UTF-8 SASL login of every user of the measured requests.</summary>
    public required byte[][] Logins { get; init; }

    public required ZipfDistribution Draw { get; init; }

    public required int Seed { get; init; }

    /// <summary>Makes the message numbers (queue_id and instance) of this run unique among the runs against one server.</summary>
    public required int RunTag { get; init; }

    public PostfixState State { get; init; } = PostfixState.Data;

    /// <summary>Unmeasured requests sent on the same connections, on <see cref="WarmupLogins"/>, before timing starts.</summary>
    public int WarmupRequests { get; init; }

    public byte[][]? WarmupLogins { get; init; }

    /// <summary>How long connecting, the warm-up and the run may take together before the run is abandoned.</summary>
    public TimeSpan Timeout { get; init; } = System.Threading.Timeout.InfiniteTimeSpan;
}
