using System.Security.Claims;
using Floodgate.Configuration;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;

namespace Floodgate.Admin;

/// <summary>
/// Who may use the admin endpoint: a request carries the API token (scripts, the CLI, Prometheus) or the dashboard's
/// session cookie; a state-changing request made with the cookie must also carry the CSRF token. Everything else is
/// refused: 401 on /api and /metrics, a redirect to the login page for the dashboard's pages.
/// </summary>
public static class AdminAccess
{
    public const string SessionCookie = "floodgate_session";
    public const string CsrfCookie = "floodgate_csrf";
    public const string CsrfField = "csrf";
    public const string CsrfHeader = "X-CSRF-Token";
    public const string LoginPath = "/login";

    /// <summary>Registers cookie sessions, antiforgery and data-protection keys kept under the data directory.</summary>
    public static void AddServices(IServiceCollection services, FloodgateOptions options)
    {
        // Keys on disk: sessions survive a restart, and the cookies stay unreadable to anyone without the data directory.
        var keys = Directory.CreateDirectory(Path.Combine(options.DataDirectory, "keys"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keys.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        services.AddDataProtection().SetApplicationName("floodgate").PersistKeysToFileSystem(keys);
        var secure = options.Admin.UsesTls ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(cookie =>
        {
            cookie.Cookie.Name = SessionCookie;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = secure;
            cookie.ExpireTimeSpan = options.Admin.SessionTimeout;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = LoginPath;
        });
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = CsrfCookie;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = secure;
            antiforgery.FormFieldName = CsrfField;
            antiforgery.HeaderName = CsrfHeader;
        });
    }

    /// <summary>Puts the check in front of every request of the admin endpoint.</summary>
    public static void Use(WebApplication app)
    {
        var token = app.Services.GetRequiredService<AdminToken>();
        var antiforgery = app.Services.GetRequiredService<IAntiforgery>();
        app.UseAuthentication();
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            var header = request.Headers.Authorization.ToString();
            if (header.Length > 0)
            {
                // A bearer token is never sent by a browser on its own, so it needs no CSRF token.
                var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
                if (token.Matches(presented))
                {
                    await next(context);
                    return;
                }

                await RefuseAsync(context);
                return;
            }

            var isPage = !request.Path.StartsWithSegments("/api") && !request.Path.StartsWithSegments("/metrics");
            var open = isPage && (request.Path == LoginPath || request.Path.StartsWithSegments("/assets"));
            if (context.User.Identity?.IsAuthenticated != true && !open)
            {
                if (isPage && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
                {
                    context.Response.Redirect($"{LoginPath}?return={Uri.EscapeDataString(request.Path + request.QueryString)}");
                    return;
                }

                await RefuseAsync(context);
                return;
            }

            if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !await antiforgery.IsRequestValidAsync(context))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsJsonAsync(new { error = "the CSRF token is missing or invalid: reload the page and try again" });
                return;
            }

            await next(context);
        });
    }

    /// <summary>Starts a dashboard session (the password or the API token was right).</summary>
    public static Task SignInAsync(HttpContext context) =>
        context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme,
            new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin")], CookieAuthenticationDefaults.AuthenticationScheme)));

    public static Task SignOutAsync(HttpContext context) => context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);

    /// <summary>The CSRF token to put in a page's forms.</summary>
    public static string CsrfToken(HttpContext context) =>
        context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context).RequestToken!;

    private static async Task RefuseAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"floodgate\"";
        // The file's name, not its path: whoever is refused learns nothing of the server's folders.
        await context.Response.WriteAsJsonAsync(new { error = $"a valid admin token is required (Authorization: Bearer ...; it is in {AdminToken.FileName} in Floodgate's data directory) or a dashboard session" });
    }
}
