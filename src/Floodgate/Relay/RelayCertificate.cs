using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Floodgate.Relay;

/// <summary>The relay's STARTTLS certificate: the configured PEM files, or a self-signed one made on first start.</summary>
public static class RelayCertificate
{
    public const string CertificateFile = "relay-cert.pem";
    public const string KeyFile = "relay-key.pem";

    /// <summary>Loads the configured certificate, or the generated one in <paramref name="dataDirectory"/> (creating it once).</summary>
    public static X509Certificate2 Load(RelayOptions options, string dataDirectory, TimeProvider time)
    {
        if (options.CertificatePath is { } path)
        {
            return Export(X509Certificate2.CreateFromPemFile(path, options.CertificateKeyPath));
        }

        var certificate = Path.Combine(dataDirectory, CertificateFile);
        var key = Path.Combine(dataDirectory, KeyFile);
        if (!File.Exists(certificate) || !File.Exists(key))
        {
            Generate(options.Hostname, certificate, key, time);
        }

        return Export(X509Certificate2.CreateFromPemFile(certificate, key));
    }

    private static void Generate(string hostname, string certificatePath, string keyPath, TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostname}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostname);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        Directory.CreateDirectory(Path.GetDirectoryName(keyPath)!);
        WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
        WritePrivate(certificatePath, certificate.ExportCertificatePem());
    }

    private static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(text);
    }

    // A key loaded from PEM is ephemeral; SslStream on Linux wants the certificate and key together in one object.
    private static X509Certificate2 Export(X509Certificate2 loaded)
    {
        using (loaded)
        {
            return X509CertificateLoader.LoadPkcs12(loaded.Export(X509ContentType.Pkcs12), null);
        }
    }
}
