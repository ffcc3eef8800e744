using System.Net;

namespace Floodgate.Relay;

/// <summary>The SMTP relay (smart host): who may relay, its bounds, its TLS and logins, and where mail goes on.</summary>
public sealed record RelayOptions
{
    /// <summary>The name the relay gives in its greeting, EHLO answer and Received headers.</summary>
    public string Hostname { get; init; } = Dns.GetHostName();

    /// <summary>Networks whose clients may relay without logging in (default: loopback only).</summary>
    public IReadOnlyList<IPNetwork> Networks { get; init; } = [IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("::1/128")];

    /// <summary>The largest message accepted, in bytes; enforced while DATA is read.</summary>
    public long MaxMessageBytes { get; init; } = 25 * 1024 * 1024;

    public int MaxRecipients { get; init; } = 1000;

    /// <summary>The longest command line accepted (RFC 5321 asks for at least 512).</summary>
    public int MaxLineBytes { get; init; } = 2048;

    /// <summary>Unknown or malformed commands a session may send before it is closed.</summary>
    public int MaxBadCommands { get; init; } = 10;

    /// <summary>How long the relay waits for the next command (RFC 5321 suggests 5 minutes).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public int MaxConnections { get; init; } = 500;

    /// <summary>Connections counted as one address: an IPv4 address or an IPv6 /64.</summary>
    public int MaxConnectionsPerAddress { get; init; } = 50;

    /// <summary>
    /// Connections clients outside <see cref="Networks"/> may hold before they log in (null: a fifth of
    /// <see cref="MaxConnections"/>), so the relay's own networks and logged-in clients always find room.
    /// </summary>
    public int? MaxUntrustedConnections { get; init; }

    /// <summary>The budget of <see cref="MaxUntrustedConnections"/> in force.</summary>
    public int UntrustedConnections => MaxUntrustedConnections ?? Math.Max(1, MaxConnections / 5);

    /// <summary>How long a client outside <see cref="Networks"/> has from connecting to logging in; no command extends it.</summary>
    public TimeSpan LoginTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>PEM certificate for STARTTLS; null generates a self-signed one into the data directory.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>PEM private key of <see cref="CertificatePath"/> (null when the key is in the same file).</summary>
    public string? CertificateKeyPath { get; init; }

    /// <summary>Logins a mail server may use to relay (offered only after STARTTLS), with PBKDF2 password hashes.</summary>
    public IReadOnlyList<RelayUser> Users { get; init; } = [];

    /// <summary>Who a relayed message is counted against.</summary>
    public RelayIdentity Identity { get; init; } = RelayIdentity.Login;

    /// <summary>Where accepted mail goes next.</summary>
    public NextHopOptions NextHop { get; init; } = new();

    /// <summary>How long held mail stays in the quarantine before it is purged.</summary>
    public TimeSpan QuarantineRetention { get; init; } = TimeSpan.FromDays(14);

    /// <summary>The most the quarantine holds in all (relay.quarantine_max_bytes); past it held mail is answered 451.</summary>
    public long QuarantineMaxBytes { get; init; } = 4L << 30;

    /// <summary>The most the quarantine holds for one identity (relay.quarantine_max_bytes_per_account).</summary>
    public long QuarantineMaxBytesPerAccount { get; init; } = 512L << 20;
}
