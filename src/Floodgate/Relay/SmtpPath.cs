namespace Floodgate.Relay;

/// <summary>
/// Parses the argument of MAIL FROM and RCPT TO: a path in angle brackets, then ESMTP parameters
/// (RFC 5321 section 4.1.2); a source route ("@a,@b:user@c") is accepted and ignored, as the RFC allows.
/// </summary>
public static class SmtpPath
{
    /// <summary>The longest address accepted (RFC 5321's path limit is 256 octets).</summary>
    public const int MaxAddressLength = 256;

    /// <summary>Reads "FROM:&lt;addr&gt; PARAMS" (or "TO:..."); false with a reason when it is malformed. A bare "postmaster" is an address (RFC 5321 4.5.1).</summary>
    public static bool TryParse(string argument, string keyword, out string address, out IReadOnlyList<KeyValuePair<string, string?>> parameters,
        out string? error)
    {
        address = "";
        parameters = [];
        error = null;
        if (!argument.StartsWith(keyword, StringComparison.OrdinalIgnoreCase))
        {
            error = $"Syntax: {keyword}<address>";
            return false;
        }

        var rest = argument[keyword.Length..].TrimStart();
        if (!rest.StartsWith('<'))
        {
            error = $"Syntax: {keyword}<address> (the address goes in angle brackets)";
            return false;
        }

        var close = rest.IndexOf('>', StringComparison.Ordinal);
        if (close < 0)
        {
            error = "Syntax: missing '>' after the address";
            return false;
        }

        var path = rest[1..close];
        var colon = path.StartsWith('@') ? path.IndexOf(':', StringComparison.Ordinal) : -1;
        if (colon >= 0)
        {
            path = path[(colon + 1)..];
        }

        if (path.Length > MaxAddressLength || path.Any(c => c is ' ' or '<' or '>' or '\t' || char.IsControl(c))
            || (path.Length > 0 && !path.Equals("postmaster", StringComparison.OrdinalIgnoreCase)
                && (path.IndexOf('@', StringComparison.Ordinal) is var at && (at <= 0 || at == path.Length - 1))))
        {
            error = $"Bad address syntax: <{Shorten(path)}>";
            return false;
        }

        address = path;
        var list = new List<KeyValuePair<string, string?>>();
        foreach (var parameter in rest[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            list.Add(equals < 0
                ? new(parameter.ToUpperInvariant(), null)
                : new(parameter[..equals].ToUpperInvariant(), parameter[(equals + 1)..]));
        }

        parameters = list;
        return true;
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
