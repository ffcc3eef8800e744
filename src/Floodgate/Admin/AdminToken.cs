using System.Security.Cryptography;
using System.Text;

namespace Floodgate.Admin;

/// <summary>The admin API's bearer token: generated into the data directory on first start (mode 0600), then reused.</summary>
public sealed class AdminToken
{
    public const string FileName = "admin.token";

    private readonly byte[] _token;

    private AdminToken(string value, string path)
    {
        Value = value;
        Path = path;
        _token = Encoding.UTF8.GetBytes(value);
    }

    public string Value { get; }

    public string Path { get; }

    /// <summary>Reads the token from <paramref name="dataDirectory"/>, creating it when there is none.</summary>
    public static AdminToken LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = System.IO.Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path))
        {
            var value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            file.Write(Encoding.UTF8.GetBytes(value + "\n"));
        }

        return new AdminToken(File.ReadAllText(path).Trim(), path);
    }

    /// <summary>Reads the token written by a running Floodgate (for the CLI); null when there is none.</summary>
    public static string? Read(string dataDirectory)
    {
        var path = System.IO.Path.Combine(dataDirectory, FileName);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>Compares in constant time, so the token cannot be guessed byte by byte from response times.</summary>
    public bool Matches(string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _token);
}
