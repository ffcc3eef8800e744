using System.Security.Cryptography.X509Certificates;

namespace Floodgate.Relay;

/// <summary>The relay's loaded STARTTLS certificate, shared by its endpoints.</summary>
public sealed class RelayTls(X509Certificate2 certificate) : IDisposable
{
    public X509Certificate2 Certificate { get; } = certificate;

    public void Dispose() => Certificate.Dispose();
}
