using System.Net;

namespace Floodgate.Configuration;

/// <summary>A TCP address or a Unix socket path a listener binds to, as written "host:port" or "unix:PATH".</summary>
public sealed record ListenEndpoint(IPEndPoint? Tcp, string? UnixPath)
{
    public static bool TryParse(string text, out ListenEndpoint? endpoint, out string? error)
    {
        endpoint = null;
        error = null;
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text["unix:".Length..];
            if (path.Length == 0)
            {
                error = "a Unix socket needs a path after 'unix:'";
                return false;
            }

            endpoint = new ListenEndpoint(null, Path.GetFullPath(path));
            return true;
        }

        // The port is required; port 0 binds a free port (tests, benchmarks).
        var hasPort = text.StartsWith('[') ? text.Contains("]:", StringComparison.Ordinal) : text.Count(c => c == ':') == 1;
        if (hasPort && IPEndPoint.TryParse(text, out var ip))
        {
            endpoint = new ListenEndpoint(ip, null);
            return true;
        }

        if (text.StartsWith("localhost:", StringComparison.Ordinal) && ushort.TryParse(text.AsSpan(10), out var port) && port != 0)
        {
            endpoint = new ListenEndpoint(new IPEndPoint(IPAddress.Loopback, port), null);
            return true;
        }

        error = $"'{text}' is not an endpoint: write host:port (127.0.0.1:10040, [::1]:10040) or unix:PATH";
        return false;
    }

    public override string ToString() => UnixPath is null ? Tcp!.ToString() : $"unix:{UnixPath}";
}
