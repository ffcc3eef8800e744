using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Floodgate.Admin;

/// <summary>
/// Gives route values their "/" back: Kestrel decodes every escape in a path except "%2F" (it would split the path),
/// so the account "a/b@example.com", sent as "a%2Fb%40example.com", would reach a handler as "a%2Fb@example.com".
/// Each parameter segment is decoded again from the raw request target.
/// </summary>
public static class SlashInRouteValues
{
    /// <summary>Adds the step after routing, before the endpoints of <paramref name="app"/> run.</summary>
    public static void Use(WebApplication app) => app.Use((context, next) =>
    {
        Restore(context);
        return next(context);
    });

    private static void Restore(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (context.GetEndpoint() is not RouteEndpoint endpoint || raw is null || !raw.StartsWith('/') || !raw.Contains("%2F", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var segments = (query < 0 ? raw : raw[..query]).Split('/');
        var pattern = endpoint.RoutePattern.PathSegments;
        for (var i = 0; i < pattern.Count && i + 1 < segments.Length; i++)
        {
            if (pattern[i].IsSimple && pattern[i].Parts[0] is RoutePatternParameterPart { IsCatchAll: false } parameter)
            {
                context.Request.RouteValues[parameter.Name] = Uri.UnescapeDataString(segments[i + 1]);
            }
        }
    }
}
