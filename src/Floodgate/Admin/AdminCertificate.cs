using System.Security.Cryptography.X509Certificates;
using Floodgate.Configuration;

namespace Floodgate.Admin;

/// <summary>Loads the admin endpoint's HTTPS certificate: PEM certificate and key, or a PFX file.</summary>
public static class AdminCertificate
{
    /// <summary>The certificate, or null when the admin endpoint serves plain HTTP; a file that cannot be read is a <see cref="ConfigException"/>.</summary>
    public static X509Certificate2? Load(AdminOptions options)
    {
        if (options.TlsCertificate is not { } path)
        {
            return null;
        }

        try
        {
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                return X509CertificateLoader.LoadPkcs12FromFile(path, options.TlsPassword);
            }

            var pem = options.TlsPassword is null
                ? X509Certificate2.CreateFromPemFile(path, options.TlsKey)
                : X509Certificate2.CreateFromEncryptedPemFile(path, options.TlsPassword, options.TlsKey);

            // Kestrel needs a key it can use for the handshake; a PEM-loaded key is ephemeral, so export and reload it.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException)
        {
            throw new ConfigException($"admin.tls_certificate: cannot load {path}{(options.TlsKey is null ? "" : $" with key {options.TlsKey}")}: {e.Message}");
        }
    }
}
