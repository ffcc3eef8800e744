using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Floodgate.Admin;

/// <summary>
/// The dashboard's admin password: generated on first start into the data directory (owner-only, like the API token,
/// for the admin to read), until <c>floodgate set-password</c> replaces it with one of the admin's own, of which only a
/// PBKDF2 hash is kept.
/// </summary>
public sealed class AdminPassword
{
    public const string FileName = "admin.password";
    public const string HashFileName = "admin.password.hash";

    // OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
    private const int Iterations = 600_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    private readonly string _hashPath;

    private AdminPassword(string dataDirectory)
    {
        Path = System.IO.Path.Combine(dataDirectory, FileName);
        _hashPath = System.IO.Path.Combine(dataDirectory, HashFileName);
    }

    /// <summary>Where the first-start password is written for the admin to read.</summary>
    public string Path { get; }

    /// <summary>Opens the password of <paramref name="dataDirectory"/>, generating one when none was ever set.</summary>
    public static AdminPassword LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var password = new AdminPassword(dataDirectory);
        if (!File.Exists(password._hashPath) && !File.Exists(password.Path))
        {
            // Hashed only when the admin chooses a password: PBKDF2 at every first start would slow starts for nothing.
            var generated = Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)).Replace('+', '-').Replace('/', '_');
            WriteOwnerOnly(password.Path, generated + "\n");
        }

        return password;
    }

    /// <summary>Whether the password is still the generated one in <see cref="Path"/>.</summary>
    public bool IsGenerated => !File.Exists(_hashPath);

    /// <summary>Sets a new password (the CLI's set-password) and removes the generated one's file.</summary>
    public void Set(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, Iterations, HashAlgorithmName.SHA256, HashBytes);
        var text = string.Create(CultureInfo.InvariantCulture, $"pbkdf2-sha256${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}\n");
        var temporary = _hashPath + ".new";
        File.Delete(temporary);
        WriteOwnerOnly(temporary, text);
        File.Move(temporary, _hashPath, overwrite: true);
        File.Delete(Path);
    }

    /// <summary>Checks a password against the stored hash or the generated file (read each time, so set-password takes effect at once).</summary>
    public bool Verify(string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            return false;
        }

        if (!File.Exists(_hashPath))
        {
            return File.Exists(Path) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(File.ReadAllText(Path).Trim()));
        }

        var parts = File.ReadAllText(_hashPath).Trim().Split('$');
        if (parts.Length != 4 || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var iterations))
        {
            return false;
        }

        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(parts[2]), iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static void WriteOwnerOnly(string path, string text)
    {
        using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        file.Write(Encoding.UTF8.GetBytes(text));
    }
}
