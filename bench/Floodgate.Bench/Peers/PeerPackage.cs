namespace Floodgate.Bench.Peers;

/// <summary>
/// A Debian package the comparison needs: a peer, with the service it brings and where that service writes its pid, or
/// a tool (no service) found at <see cref="Program"/>.
/// </summary>
internal sealed record PeerPackage(string Name, string? Service, string? ServicePidFile, string? Program = null)
{
    /// <summary>The compiler of the do-nothing C server.</summary>
    public static PeerPackage Gcc { get; } = new("gcc", null, null, "/usr/bin/gcc");

    public static PeerPackage Postfwd { get; } = new("postfwd", "postfwd", "/run/postfwd.pid");

    public static PeerPackage PolicydRateLimit { get; } =
        new("policyd-rate-limit", "policyd-rate-limit", "/run/policyd-rate-limit/policyd-rate-limit.pid");
}
