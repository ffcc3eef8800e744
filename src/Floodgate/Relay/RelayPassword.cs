using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Floodgate.Engine;

namespace Floodgate.Relay;

/// <summary>
/// Relay login passwords as PBKDF2-SHA256 hashes ("pbkdf2-sha256$ITERATIONS$SALT$HASH", base64), so the configuration
/// never holds a password. A verified password is remembered by a fast keyed digest, so a mail server that logs in on
/// every connection does not pay the slow hash each time.
/// </summary>
public sealed class RelayPassword
{
    private const string Scheme = "pbkdf2-sha256";
    private const int Iterations = 210_000;

    private readonly Dictionary<string, RelayUser> _users;
    private readonly ConcurrentDictionary<string, byte[]> _verified = new(StringComparer.Ordinal);
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>Failed logins one client address may make per <see cref="FailureWindow"/> before it is refused without a check.</summary>
    public const int MaxFailures = 10;

    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(5);

    private readonly LoginThrottle _throttle;

    public RelayPassword(IEnumerable<RelayUser> users, TimeProvider? time = null)
    {
        _users = users.ToDictionary(u => u.Name, StringComparer.Ordinal);
        _throttle = new LoginThrottle(MaxFailures, FailureWindow, time);
    }

    /// <summary>
    /// Reserves a login attempt for <paramref name="client"/> before any hash runs, so parallel guesses cannot all be
    /// checked; false (check nothing) while the address has used up its failed logins for the current window.
    /// </summary>
    public bool TryBeginLogin(System.Net.IPAddress client) => _throttle.TryBegin(client);

    /// <summary>Checks a login reserved with <see cref="TryBeginLogin"/>: a failure keeps counting against the address.</summary>
    public bool Verify(string user, string password, System.Net.IPAddress client)
    {
        if (!Verify(user, password))
        {
            return false;
        }

        _throttle.Succeeded(client);
        return true;
    }

    /// <summary>True when relay logins are configured (AUTH is offered after STARTTLS).</summary>
    public bool Any => _users.Count > 0;

    /// <summary>Makes a hash to put in the configuration.</summary>
    public static string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, 32);
        return $"{Scheme}${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>True when the text is a hash this class can check.</summary>
    public static bool IsHash(string text) => TryDecode(text, out _, out _, out _);

    /// <summary>Checks a login; unknown users cost the same slow hash as wrong passwords.</summary>
    public bool Verify(string user, string password)
    {
        var digest = HMACSHA256.HashData(_cacheKey, Encoding.UTF8.GetBytes(user + "\0" + password));
        if (_verified.TryGetValue(user, out var known) && CryptographicOperations.FixedTimeEquals(known, digest))
        {
            return true;
        }

        var stored = _users.TryGetValue(user, out var found) ? found.PasswordHash : null;
        if (!TryDecode(stored ?? "", out var iterations, out var salt, out var expected))
        {
            iterations = Iterations;
            salt = new byte[16];
            expected = new byte[32];
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        var ok = stored is not null && CryptographicOperations.FixedTimeEquals(actual, expected);
        if (ok)
        {
            _verified[user] = digest;
        }

        return ok;
    }

    private static bool TryDecode(string text, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = hash = [];
        var parts = text.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations)
            || iterations < 1000)
        {
            return false;
        }

        try
        {
            salt = Convert.FromBase64String(parts[2]);
            hash = Convert.FromBase64String(parts[3]);
            return salt.Length >= 8 && hash.Length >= 16;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
