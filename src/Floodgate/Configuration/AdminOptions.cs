namespace Floodgate.Configuration;

/// <summary>The admin endpoint's HTTPS certificate and the dashboard's session length.</summary>
public sealed record AdminOptions
{
    /// <summary>A PEM certificate (with <see cref="TlsKey"/>) or a PFX file; null serves plain HTTP.</summary>
    public string? TlsCertificate { get; init; }

    /// <summary>The PEM private key of <see cref="TlsCertificate"/>; null when the key is inside it (PEM or PFX).</summary>
    public string? TlsKey { get; init; }

    /// <summary>The PFX password or the PEM key's passphrase, where it has one.</summary>
    public string? TlsPassword { get; init; }

    /// <summary>How long a dashboard session lasts without being used.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromHours(8);

    public bool UsesTls => TlsCertificate is not null;
}
