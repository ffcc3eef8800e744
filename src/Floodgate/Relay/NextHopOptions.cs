namespace Floodgate.Relay;

/// <summary>The smart host accepted mail is delivered to, and how delivery is retried.</summary>
public sealed record NextHopOptions
{
    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 25;

    public NextHopTls Tls { get; init; } = NextHopTls.Opportunistic;

    /// <summary>Login at the next hop, or null.</summary>
    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Deliveries to the next hop at once (each on its own reused connection).</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>The first retry's delay; each later one doubles, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A message still undelivered after this long is returned to its sender.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(5);

    /// <summary>How long one SMTP exchange with the next hop may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}
