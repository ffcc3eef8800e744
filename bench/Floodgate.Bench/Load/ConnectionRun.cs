namespace Floodgate.Bench.Load;

/// <summary>One connection's share of a run: what it sends, and what it saw (kept per connection, merged after).</summary>
internal sealed class ConnectionRun
{
    public ConnectionRun(byte[][] logins, ZipfDistribution draw, int seed, int count, long[] latencies, int offset, long firstMessage,
        PostfixState state)
    {
        Logins = logins;
        Draw = draw;
        Random = new Random(seed);
        Count = count;
        Latencies = latencies;
        Offset = offset;
        FirstMessage = firstMessage;
        State = state;
        Sent = new int[logins.Length];
        Accepted = new int[logins.Length];
    }

    /// <summary>The UTF-8 SASL login of every user of this run.</summary>
    public byte[][] Logins { get; }

    public ZipfDistribution Draw { get; }

    public Random Random { get; }

    /// <summary>Requests this connection sends.</summary>
    public int Count { get; }

    /// <summary>Stopwatch ticks from sending a request to the end of its answer; this connection owns [Offset, Offset + Count).</summary>
    public long[] Latencies { get; }

    public int Offset { get; }

    /// <summary>The number of this connection's first message (queue_id and instance are made from it).</summary>
    public long FirstMessage { get; }

    /// <summary>The stage the requests are sent at.</summary>
    public PostfixState State { get; }

    /// <summary>Requests sent per user.</summary>
    public int[] Sent { get; }

    /// <summary>Accepting answers (DUNNO or OK, in any case) per user.</summary>
    public int[] Accepted { get; }

    /// <summary>Accepting answers over all users.</summary>
    public long Accepts { get; set; }

    public long Deferred { get; set; }

    /// <summary>Answers that neither accept nor are DEFER_IF_PERMIT.</summary>
    public long Unexpected { get; set; }

    public string? FirstUnexpected { get; set; }
}
