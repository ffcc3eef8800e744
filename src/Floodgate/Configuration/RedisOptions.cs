namespace Floodgate.Configuration;

/// <summary>How Floodgate reaches the Redis that a cluster of nodes shares, and what it answers while Redis is away.</summary>
public sealed record RedisOptions
{
    /// <summary>A StackExchange.Redis connection string: "host:port,password=...,ssl=true".</summary>
    public string Connection { get; init; } = "127.0.0.1:6379";

    /// <summary>Put before every key and the pub/sub channel, so several deployments can share one Redis.</summary>
    public string KeyPrefix { get; init; } = "floodgate:";

    /// <summary>How long one Redis call may take before the store counts as unavailable.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>While Redis is unavailable: decide with this node's own counters (open) or answer defer (closed).</summary>
    public FailMode FailMode { get; init; } = FailMode.Open;
}
