using System.Globalization;
using System.Text.Encodings.Web;
using Floodgate.Engine;

namespace Floodgate.Admin.Dashboard;

/// <summary>The dashboard's page frame and the small pieces its pages share; every value from outside is HTML-encoded here.</summary>
public static class Html
{
    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    public static string E(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A time in UTC; the page's script shows it in the admin's own time zone.</summary>
    public static string Time(DateTimeOffset? at) => at is { } t
        ? $"<time datetime=\"{t.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}\">{t.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC</time>"
        : "-";

    public static string AccountHref(string account) => "/accounts/" + Uri.EscapeDataString(account);

    public static string AccountLink(string account) => $"<a href=\"{E(AccountHref(account))}\">{E(account)}</a>";

    /// <summary>A form with one button posting to <paramref name="action"/>, carrying the CSRF token.</summary>
    public static string Button(string action, string csrf, string label, string css, string? confirm = null, params (string Name, string Value)[] fields) =>
        $"<form method=\"post\" action=\"{E(action)}\" class=\"inline\"{(confirm is null ? "" : $" data-confirm=\"{E(confirm)}\"")}>"
        + CsrfInput(csrf)
        + string.Concat(fields.Select(f => $"<input type=\"hidden\" name=\"{E(f.Name)}\" value=\"{E(f.Value)}\">"))
        + $"<button type=\"submit\" class=\"{E(css)}\">{E(label)}</button></form>";

    public static string CsrfInput(string csrf) => $"<input type=\"hidden\" name=\"{AdminAccess.CsrfField}\" value=\"{E(csrf)}\">";

    /// <summary>Each rule's counter against its limit as a bar, amber from 80 %, red at the limit.</summary>
    public static string Bars(IEnumerable<CounterValue> counters) => "<div class=\"bars\">" + string.Concat(counters.Select(c =>
    {
        var share = c.Max == 0 ? 1.0 : Math.Min(1.0, (double)c.Count / c.Max);
        var level = share >= 1 ? "full" : share >= 0.8 ? "high" : "ok";
        return $"<div class=\"bar\" data-rule=\"{E(c.Rule)}\"><span class=\"bar-label\">{E(c.Rule)}: {E(c.Count)} / {E(c.Max)} {E(c.Unit)} per {E(c.Window)}</span>"
            + $"<span class=\"track\"><span class=\"fill {level}\" style=\"width:{share * 100:0.#}%\"></span></span></div>";
    })) + "</div>";

    public static string State(string state) => $"<span class=\"state {E(state)}\">{E(state)}</span>";

    /// <summary>What every page says while anything is only observed: the whole deployment, or which limits.</summary>
    public static string ObserveBanner(Engine.RuleSet rules)
    {
        if (rules.Mode == Engine.EnforcementMode.Observe)
        {
            return "<p class=\"observe-banner\" id=\"observe-banner\"><strong>Observe mode: nothing is enforced.</strong> Every decision is made, logged and counted,"
                + " and shown here as \"would have deferred / held / suspended\", but all mail is accepted and nobody is suspended."
                + " Set <code>mode: enforce</code> in the configuration and reload to enforce.</p>";
        }

        var observed = rules.Observed.Select(r => r.Name).ToList();
        return observed.Count == 0 ? ""
            : $"<p class=\"observe-banner\" id=\"observe-banner\"><strong>Observe only: {E(string.Join(", ", observed))}.</strong>"
              + " These limits' verdicts are recorded as \"would have\", not enforced; the other limits are enforced.</p>";
    }

    /// <summary>A decision's verdict as the dashboard shows it: "accept (would have held)" where observe mode changed it.</summary>
    public static string VerdictText(in Engine.Decision decision) => decision.IsObserved
        ? $"accept ({Engine.ScopeNames.WouldHave(decision.Observed)}{(decision.WouldSuspend ? ", would have suspended" : "")})"
        : Engine.ScopeNames.Of(decision.Verdict);

    /// <summary>A whole page: header with navigation and logout, then <paramref name="main"/>.</summary>
    public static IResult Page(HttpContext context, string title, string main, bool refresh = true, bool signedIn = true, int status = 200)
    {
        var csrf = AdminAccess.CsrfToken(context);
        var header = signedIn
            ? "<header><a class=\"brand\" href=\"/\">Floodgate</a><nav><a href=\"/\">Overview</a><a href=\"/incidents\">Incidents</a><a href=\"/quarantine\">Quarantine</a></nav>"
              + "<span class=\"updated\" id=\"updated\"></span>"
              + $"<form method=\"post\" action=\"/logout\" class=\"inline\">{CsrfInput(csrf)}<button type=\"submit\" class=\"plain\">Log out</button></form></header>"
            : "<header><span class=\"brand\">Floodgate</span></header>";
        var banner = signedIn && context.RequestServices.GetService<Configuration.FloodgateOptions>() is { } options ? ObserveBanner(options.Rules) : "";
        var html = $"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{E(title)} · Floodgate</title>
            <link rel="stylesheet" href="/assets/dashboard.css">
            <script src="/assets/dashboard.js" defer></script>
            </head>
            <body{(refresh ? " data-refresh=\"3\"" : "")}>
            {header}
            {banner}
            <main id="main">
            {main}
            </main>
            </body>
            </html>
            """;
        var headers = context.Response.Headers;
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";

        // No script but the dashboard's own file; inline style attributes only for the bars' widths.
        headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        return Results.Content(html, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
    }
}
