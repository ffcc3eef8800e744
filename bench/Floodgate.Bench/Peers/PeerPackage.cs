namespace Floodgate.Bench.Peers;

/// <summary>A Debian package of a peer, with the service it brings and where that service writes its pid.</summary>
internal sealed record PeerPackage(string Name, string Service, string ServicePidFile)
{
    public static PeerPackage Postfwd { get; } = new("postfwd", "postfwd", "/run/postfwd.pid");

    public static PeerPackage PolicydRateLimit { get; } =
        new("policyd-rate-limit", "policyd-rate-limit", "/run/policyd-rate-limit/policyd-rate-limit.pid");
}
