using System.Globalization;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Incidents;
using Floodgate.Quarantine;
using Floodgate.Storage;
using static Floodgate.Admin.Dashboard.Html;

namespace Floodgate.Admin.Dashboard;

/// <summary>
/// The web dashboard, rendered on the server: login, overview, an account's page with its actions, incidents. Its
/// forms post to the routes here; <see cref="AdminAccess"/> has already checked the session and the CSRF token.
/// </summary>
public static class DashboardPages
{
    private const string Actor = "dashboard";

    /// <summary>Failed logins allowed per <see cref="LoginWindow"/> before logins are refused for the rest of it.</summary>
    public const int MaxFailedLogins = 10;

    public static readonly TimeSpan LoginWindow = TimeSpan.FromMinutes(5);

    private static readonly int[] ChartHours = [1, 3, 6];

    // The overview lists this many suspended accounts (and counts the rest) and this many top senders.
    private const int ShownSuspended = 100;
    private const int TopSenders = 15;

    public static void Map(WebApplication app)
    {
        var throttle = new LoginThrottle(MaxFailedLogins, LoginWindow, app.Services.GetRequiredService<TimeProvider>());
        app.MapGet("/assets/{name}", Asset);
        app.MapGet(AdminAccess.LoginPath, (HttpContext context, string? @return) => LoginPage(context, @return, null, 200));
        app.MapPost(AdminAccess.LoginPath, async (HttpContext context, AdminPassword password, AdminToken token) =>
        {
            var form = await context.Request.ReadFormAsync();
            var target = SafeReturn(form["return"]);
            var presented = form["password"].ToString();

            // The API token cannot be guessed, so the throttle never stands between it and the admin.
            if (!token.Matches(presented))
            {
                var client = context.Connection.RemoteIpAddress ?? System.Net.IPAddress.Loopback;
                if (!throttle.TryBegin(client))
                {
                    return LoginPage(context, target, "Too many failed logins from your address: wait a few minutes and try again.", 429);
                }

                if (!password.Verify(presented))
                {
                    return LoginPage(context, target, "Wrong password.", 401);
                }

                throttle.Succeeded(client);
            }

            await AdminAccess.SignInAsync(context);
            return Results.Redirect(target);
        });
        app.MapPost("/logout", async (HttpContext context) =>
        {
            await AdminAccess.SignOutAsync(context);
            return Results.Redirect(AdminAccess.LoginPath);
        });
        app.MapGet("/", Overview);
        app.MapGet("/accounts/{account}", AccountPage);
        app.MapPost("/accounts/{account}/suspend", Suspend);
        app.MapPost("/accounts/{account}/release", Release);
        app.MapPost("/accounts/{account}/exempt", Exempt);
        app.MapPost("/accounts/{account}/unexempt", async (string account, LimitAdjustments containment) =>
        {
            await containment.RemoveExemptionAsync(account, Actor);
            return Done(account, "unexempted");
        });
        app.MapGet("/incidents", IncidentsPage);
        app.MapGet("/incidents/{id:long}", IncidentPage);
        QuarantinePages.Map(app);
    }

    private static IResult Asset(string name)
    {
        var stream = typeof(DashboardPages).Assembly.GetManifestResourceStream("dashboard/" + name);
        if (stream is null)
        {
            return Results.NotFound();
        }

        var type = name.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
        return Results.Stream(stream, type);
    }

    private static IResult LoginPage(HttpContext context, string? target, string? error, int status)
    {
        // Unauthenticated visitors see where the password is kept by name, not the server's paths.
        var password = context.RequestServices.GetRequiredService<AdminPassword>();
        var main = $"""
            <section class="login">
            <h1>Log in</h1>
            {(error is null ? "" : $"<p class=\"flash error\" id=\"login-error\">{E(error)}</p>")}
            <form method="post" action="{AdminAccess.LoginPath}">
            {CsrfInput(AdminAccess.CsrfToken(context))}
            <input type="hidden" name="return" value="{E(SafeReturn(target))}">
            <label>Password <input type="password" name="password" id="password" autocomplete="current-password" autofocus required></label>
            <button type="submit" class="primary" id="login">Log in</button>
            </form>
            <p class="hint">{(password.IsGenerated ? $"The first password is in <code>{AdminPassword.FileName}</code> in Floodgate's data directory; set your own with <code>floodgate set-password</code>." : "Set with <code>floodgate set-password</code>.")}
            The API token (<code>{AdminToken.FileName}</code>) works too.</p>
            </section>
            """;
        return Page(context, "Log in", main, refresh: false, signedIn: false, status: status);
    }

    // Only a path on this site: a return address from the query string must not send the admin elsewhere. Browsers
    // drop tabs and newlines from URLs ("/\t/evil" becomes "//evil") and read a backslash as "/", and a header holds
    // only printable ASCII: anything but a printable path with one leading "/" goes home instead.
    private static string SafeReturn(string? target) =>
        target is { Length: > 0 } t && t[0] == '/' && !t.StartsWith("//", StringComparison.Ordinal) && !t.Contains('\\', StringComparison.Ordinal)
            && t.All(c => c is > ' ' and < (char)0x7F) ? t : "/";

    private static async Task<IResult> Overview(HttpContext context, DecisionEngine engine, IAccountStore accounts, MemoryCounterStore counters,
        IncidentBook containment, AccountRanking ranking, PolicyListeners listeners, TrafficHistory traffic, FloodgateOptions options, TimeProvider time, int? hours,
        RelayListeners relays, Quarantine.RelayQuarantine quarantine, Relay.IOutboundDelivery outbound)
    {
        var now = time.GetUtcNow();
        var csrf = AdminAccess.CsrfToken(context);
        var span = Math.Clamp(hours ?? 3, 1, TrafficHistory.Minutes / 60);
        var history = traffic.Last(span * 60, now);
        // A page of each, whatever the number of identities: the suspended ones listed, the rest counted.
        var suspendedCount = (await accounts.ListSuspensionsAsync()).Count(s => s.Identity.Scope == Scope.Account);
        var suspended = await AdminApi.ListAccountsAsync(engine, accounts, counters, containment, ranking, now, ShownSuspended, onlySuspended: true);
        var top = (await AdminApi.ListAccountsAsync(engine, accounts, counters, containment, ranking, now, TopSenders, skipSuspended: true))
            .Where(a => a.Counters.Any(c => c.Count > 0)).ToList();
        var open = containment.OpenIncidents.OrderByDescending(i => i.Id).Select(i => i.Snapshot()).ToList();
        var lastMinute = history[^1];

        var suspendedRows = suspended.Count == 0
            ? "<tr><td colspan=\"6\" class=\"empty\">No account is suspended.</td></tr>"
            : string.Concat(suspended.Select(a => $"""
                <tr data-account="{E(a.Account)}"><td>{AccountLink(a.Account)}</td><td>{Time(a.Since)}</td><td>{E(a.Rule ?? "by hand")}</td><td>{E(a.Reason)}</td>
                <td>{(a.IncidentId is { } id ? $"<a href=\"/incidents/{id}\">#{id}</a>" : "-")}</td>
                <td class="actions">{ReleaseButtons(a.Account, csrf)}</td></tr>
                """))
            + (suspendedCount > suspended.Count
                ? $"<tr><td colspan=\"6\" class=\"empty\">and {E(suspendedCount - suspended.Count)} more (the oldest suspensions are shown; <code>floodgate accounts</code> lists them all)</td></tr>"
                : "");
        var topRows = top.Count == 0
            ? "<tr><td colspan=\"2\" class=\"empty\">No account has sent anything in its windows.</td></tr>"
            : string.Concat(top.Select(a => $"<tr data-account=\"{E(a.Account)}\"><td>{AccountLink(a.Account)}</td><td>{Bars(a.Counters)}</td></tr>"));
        var incidentRows = open.Count == 0
            ? "<tr><td colspan=\"4\" class=\"empty\">No open incident.</td></tr>"
            : string.Concat(open.Select(i => $"<tr><td><a href=\"/incidents/{i.Id}\">#{i.Id}</a></td><td>{AccountLink(i.Identity.Key)}</td><td>{E(i.Reason)}</td><td>{Time(i.OpenedAt)}</td></tr>"));
        var observed = containment.ObservedIncidents.Select(i => i.Snapshot()).ToList();
        var observedSection = observed.Count == 0 && !options.Rules.Observed.Any() ? "" : $"""
            <section id="would-suspend"><h2>Would have been suspended (observe mode, nothing enforced)</h2>
            <table><thead><tr><th>incident</th><th>account</th><th>reason</th><th>when</th></tr></thead><tbody>{(observed.Count == 0
                ? "<tr><td colspan=\"4\" class=\"empty\">No account would have been suspended lately.</td></tr>"
                : string.Concat(observed.Select(i => $"<tr><td><a href=\"/incidents/{i.Id}\">#{i.Id}</a></td><td>{AccountLink(i.Identity.Key)}</td><td>{E(i.Reason)}</td><td>{Time(i.OpenedAt)}</td></tr>")))}</tbody></table>
            </section>
            """;
        var listenerRows = string.Concat(listeners.Handlers.Select(h =>
            $"<tr><td>policy</td><td><code>{E(PolicyListeners.NameOf(h.Endpoint, h.Listen))}</code></td><td>{State("listening")}</td><td>{E(h.Handler.Connections)} of {E(options.Policy.MaxConnections)}</td></tr>"))
            + string.Concat(relays.Handlers.Select(h =>
            $"<tr><td>relay</td><td><code>{E(h.Handler.Endpoint)}</code></td><td>{State("listening")}</td><td>{E(h.Handler.Connections)} of {E(options.Relay.MaxConnections)}</td></tr>"));
        var ranges = string.Join(" ", ChartHours.Select(h => h == span ? $"<strong>{h} h</strong>" : $"<a href=\"/?hours={h}\">{h} h</a>"));

        var main = $"""
            <h1>Overview</h1>
            <section class="tiles">
            <div class="tile{(suspendedCount > 0 ? " alarm" : "")}" id="tile-suspended"><span class="number">{E(suspendedCount)}</span>suspended accounts</div>
            <div class="tile{(open.Count > 0 ? " alarm" : "")}" id="tile-incidents"><span class="number">{E(open.Count)}</span>open incidents</div>
            <div class="tile"><span class="number">{E(lastMinute.Messages)}</span>messages this minute ({E(lastMinute.Recipients)} recipients)</div>
            <div class="tile"><span class="number">{E(lastMinute.Refused)}</span>refused this minute</div>
            <div class="tile{(quarantine.Count > 0 ? " alarm" : "")}" id="tile-quarantine"><a href="/quarantine"><span class="number">{E(quarantine.Count)}</span>held in the quarantine</a></div>
            <div class="tile" id="tile-outbound"><span class="number">{E(outbound.Depth)}</span>waiting for the next hop</div>
            </section>
            <section><h2>Traffic per minute, last {span} h <span class="ranges">{ranges}</span></h2>
            <p class="legend"><span class="key recipients"></span>recipients accepted <span class="key messages"></span>messages accepted <span class="key refused"></span>messages refused (deferred, held, rejected)</p>
            {TrafficChart.Render(history)}
            </section>
            <section id="suspended"><h2>Suspended accounts</h2>
            <table><thead><tr><th>account</th><th>since</th><th>rule</th><th>reason</th><th>incident</th><th></th></tr></thead><tbody>{suspendedRows}</tbody></table>
            </section>
            <section id="top"><h2>Top senders now</h2>
            <table><thead><tr><th>account</th><th>counters against limits</th></tr></thead><tbody>{topRows}</tbody></table>
            </section>
            {observedSection}
            <section id="open-incidents"><h2>Open incidents</h2>
            <table><thead><tr><th>incident</th><th>account</th><th>reason</th><th>opened</th></tr></thead><tbody>{incidentRows}</tbody></table>
            </section>
            <section id="listeners"><h2>Listeners</h2>
            <table><thead><tr><th>kind</th><th>endpoint</th><th>state</th><th>connections</th></tr></thead><tbody>{listenerRows}</tbody></table>
            </section>
            """;
        return Page(context, "Overview", main);
    }

    private static string ReleaseButtons(string account, string csrf) =>
        Button(AccountHref(account) + "/release", csrf, "Release and deliver", "primary", null, ("mode", "deliver"))
        + Button(AccountHref(account) + "/release", csrf, "Release and purge", "danger",
            $"Release {account} and DELETE all of its held mail?", ("mode", "purge"));

    private static async Task<IResult> AccountPage(string account, HttpContext context, DecisionEngine engine, IAccountStore accounts,
        MemoryCounterStore counters, IncidentBook containment, IIncidentStore incidents, TrafficHistory traffic, HeldMail held, TimeProvider time, string? done, long? n)
    {
        var now = time.GetUtcNow();
        var csrf = AdminAccess.CsrfToken(context);
        var view = await AdminApi.FindAccountAsync(account, engine, accounts, counters, containment, now);
        var key = view.Account;
        var identity = new Identity(Scope.Account, key);
        var exemption = engine.Exemptions.All.FirstOrDefault(e => e.Key == key && e.Until > now);
        var history = (await incidents.ListAsync(false, 500)).Where(i => i.Identity == identity)
            .Select(i => containment.OpenIncidentOf(identity) is { } live && live.Id == i.Id ? live.Snapshot() : i)
            .OrderByDescending(i => i.IsOpen).ThenByDescending(i => i.Id).Take(10).ToList();
        var recent = traffic.RecentOf(key);
        var heldCount = await held.CountAsync(identity);
        var heldEntries = heldCount == 0 ? [] : await held.ListAsync(identity, 20);

        var actions = view.State == "suspended" || heldCount > 0
            ? ReleaseButtons(key, csrf)
            : $"""
                <form method="post" action="{E(AccountHref(key))}/suspend" class="inline">{CsrfInput(csrf)}
                <input type="text" name="reason" placeholder="reason (optional)" maxlength="200">
                <button type="submit" class="danger" id="suspend">Suspend</button></form>
                """;
        var exemptForm = $"""
            <form method="post" action="{E(AccountHref(key))}/exempt" class="inline exempt">{CsrfInput(csrf)}
            <label>Exempt until <input type="datetime-local" name="until" required></label>
            <label>at most <input type="number" name="max" min="0" placeholder="no limit"></label>
            <input type="hidden" name="offset" value="0">
            <button type="submit">Exempt</button></form>
            """;
        var exemptionText = exemption is null ? "" :
            $"<p class=\"exemption\">Exempt until {Time(exemption.Until)}{(exemption.Max is { } max ? $", at most {E(max)} per window" : ", no limit")} (by {E(exemption.By)}) "
            + Button(AccountHref(key) + "/unexempt", csrf, "End exemption", "plain") + "</p>";
        var summary = view.State == "suspended"
            ? $"<p>Suspended {Time(view.Since)} {(view.Rule is null ? "by hand" : $"by rule <strong>{E(view.Rule)}</strong>")} ({E(view.By)}): {E(view.Reason)}"
              + (view.AutoReleaseAt is { } auto ? $"; released automatically {Time(auto)}" : "") + "</p>"
            : WouldHave(recent, containment.ObservedIncidents.FirstOrDefault(i => i.Identity == identity))
              ?? "<p>Sending normally within its limits.</p>";
        var heldRows = string.Concat(heldEntries.Select(e => $"""
            <tr><td>{Time(e.HeldAt)}</td><td>{E(e.Place)}</td><td>{E(e.Id)}</td><td>{E(e.Sender ?? "-")}</td><td>{E(e.Reason)}</td></tr>
            """));
        var heldSection = heldCount == 0 ? "<p class=\"empty\">No held mail.</p>"
            : $"<p><strong id=\"held-count\">{E(heldCount)}</strong> held messages (by a suspension or a hold limit), released or purged together by the buttons above; the oldest:</p>"
              + $"<table><thead><tr><th>held</th><th>where</th><th>id</th><th>sender</th><th>why</th></tr></thead><tbody>{heldRows}</tbody></table>";
        var incidentBlocks = history.Count == 0 ? "<p class=\"empty\">No incident.</p>" : string.Concat(history.Select(IncidentBlock));
        var decisionRows = recent.Count == 0
            ? "<tr><td colspan=\"7\" class=\"empty\">No decision since Floodgate started.</td></tr>"
            : string.Concat(recent.Select(d => $"""
                <tr class="verdict-{(d.Decision.IsObserved ? "observed" : ScopeNames.Of(d.Decision.Verdict))}"><td>{Time(d.Submission.Time)}</td><td>{E(d.Listener)}, {(d.Stage == DecisionStage.Count ? "counted" : "checked")}</td>
                <td>{E(VerdictText(d.Decision))}</td><td>{E(d.Decision.Rule?.Name ?? "-")}</td><td>{E(d.Submission.RecipientCount)}</td>
                <td>{E(d.Submission.ClientAddress ?? "-")}</td><td>{E(d.Decision.Reason)}</td></tr>
                """));

        var main = $"""
            {Flash.Html(done, n)}
            <h1>{E(key)} <span id="state">{State(view.State)}</span></h1>
            {summary}
            <section class="actions" id="actions">{actions}{exemptForm}</section>
            {exemptionText}
            <section id="limits"><h2>Limits</h2>{Bars(view.Counters)}</section>
            <section id="held"><h2>Held mail</h2>{heldSection}</section>
            <section id="incidents"><h2>Incidents</h2>{incidentBlocks}</section>
            <section id="decisions"><h2>Recent decisions</h2>
            <table><thead><tr><th>time</th><th>where</th><th>verdict</th><th>rule</th><th>recipients</th><th>client</th><th>reason</th></tr></thead><tbody>{decisionRows}</tbody></table>
            </section>
            """;
        return Page(context, key, main);
    }

    // Observe mode's account state: what would have happened to it lately, which nothing enforced.
    private static string? WouldHave(IReadOnlyList<Admin.RecentDecision> recent, Incident? observed)
    {
        var last = recent.FirstOrDefault(d => d.Decision.IsObserved);
        if (last.Listener is null && observed is null)
        {
            return null;
        }

        var text = "<p id=\"would-have\" class=\"observe\">Observe mode, not enforced: ";
        if (observed is not null)
        {
            text += $"would have been <strong>suspended</strong> {Time(observed.OpenedAt)} by rule <strong>{E(observed.Rule ?? "-")}</strong>"
                + $" (<a href=\"/incidents/{observed.Id}\">incident #{observed.Id}</a>, observe only)";
        }

        if (last.Listener is not null)
        {
            text += (observed is null ? "" : "; ") + $"last <strong>{E(ScopeNames.WouldHave(last.Decision.Observed))}</strong> {Time(last.Submission.Time)}"
                + $" by rule <strong>{E(last.Decision.Rule?.Name ?? "-")}</strong>";
        }

        return text + ". Its mail is delivered.</p>";
    }

    private static string IncidentBlock(Incident i) => $"""
        <article class="incident" data-id="{i.Id}"><h3><a href="/incidents/{i.Id}">Incident #{i.Id}</a> <span class="incident-state">{State(i.IsObserveOnly ? "observe-only" : i.IsOpen ? "open" : "closed")}</span></h3>
        <p>{E(i.Reason)}{(i.Resolution is null ? "" : $" · {E(i.Resolution)} by {E(i.ClosedBy)} {Time(i.ClosedAt)}")}</p>
        <ol class="timeline">{string.Concat(i.Timeline.Select(t => $"<li>{Time(t.At)} <strong>{E(t.Kind)}</strong> by {E(t.By)}{(t.Detail.Length > 0 ? ": " + E(t.Detail) : "")}</li>"))}</ol>
        </article>
        """;

    private static async Task<IResult> Suspend(string account, HttpContext context, IncidentBook containment)
    {
        var form = await context.Request.ReadFormAsync();
        var reason = form["reason"].ToString().Trim();
        await containment.SuspendAsync(new Identity(Scope.Account, IdentityNormalizer.Normalize(account)), reason.Length == 0 ? "suspended by an admin" : reason, Actor);
        return Done(account, "suspended");
    }

    private static async Task<IResult> Release(string account, HttpContext context, AccountRelease containment)
    {
        var form = await context.Request.ReadFormAsync();
        var mode = form["mode"].ToString() switch
        {
            "deliver" => ReleaseMode.Deliver,
            "purge" => ReleaseMode.Purge,
            _ => ReleaseMode.Keep,
        };
        var outcome = await containment.ReleaseAsync(new Identity(Scope.Account, IdentityNormalizer.Normalize(account)), mode, Actor);
        var key = !outcome.WasSuspended && outcome.Incident is null && outcome.HeldMessages == 0 && outcome.HeldLeft == 0 ? "not-suspended"
            : outcome.Problem is not null || outcome.HeldLeft > 0 ? "release-problem"
            : mode switch
            {
                ReleaseMode.Deliver => "released-delivered",
                ReleaseMode.Purge => "released-purged",
                _ => "released-kept",
            };
        return Done(account, key, outcome.HeldMessages);
    }

    private static async Task<IResult> Exempt(string account, HttpContext context, LimitAdjustments containment, TimeProvider time)
    {
        var form = await context.Request.ReadFormAsync();

        // datetime-local has no zone: the page's script sends the browser's offset beside it.
        var offset = int.TryParse(form["offset"], CultureInfo.InvariantCulture, out var minutes) ? TimeSpan.FromMinutes(-minutes) : TimeSpan.Zero;
        if (!DateTime.TryParse(form["until"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)
            || new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), offset) is var until && until <= time.GetUtcNow())
        {
            return Done(account, "exempt-in-past");
        }

        long? max = long.TryParse(form["max"], CultureInfo.InvariantCulture, out var m) && m >= 0 ? m : null;
        await containment.ExemptAsync(account, max, until, Actor);
        return Done(account, "exempted");
    }

    private static IResult Done(string account, string flash, long count = 0) =>
        Results.Redirect($"{AccountHref(IdentityNormalizer.Normalize(account))}?{Flash.Query(flash, count)}");

    private static async Task<IResult> IncidentsPage(HttpContext context, IIncidentStore incidents, IncidentBook containment)
    {
        var open = containment.OpenIncidents.Select(i => i.Snapshot()).ToList();
        var list = open.Concat((await incidents.ListAsync(false, 200)).Where(i => open.All(o => o.Id != i.Id)))
            .OrderByDescending(i => i.IsOpen).ThenByDescending(i => i.Id).ToList();
        var rows = list.Count == 0
            ? "<tr><td colspan=\"6\" class=\"empty\">No incident yet.</td></tr>"
            : string.Concat(list.Select(i => $"""
                <tr data-id="{i.Id}"><td><a href="/incidents/{i.Id}">#{i.Id}</a></td><td>{AccountLink(i.Identity.Key)}</td><td>{State(i.IsObserveOnly ? "observe-only" : i.IsOpen ? "open" : "closed")}</td>
                <td>{E(i.Rule ?? "by hand")}</td><td>{Time(i.OpenedAt)}</td><td>{E(i.Resolution ?? "")}</td></tr>
                """));
        var main = $"""
            <h1>Incidents</h1>
            <table><thead><tr><th>incident</th><th>account</th><th>state</th><th>rule</th><th>opened</th><th>resolution</th></tr></thead><tbody>{rows}</tbody></table>
            """;
        return Page(context, "Incidents", main);
    }

    private static async Task<IResult> IncidentPage(long id, HttpContext context, IIncidentStore incidents, IncidentBook containment)
    {
        var incident = containment.OpenIncidents.FirstOrDefault(i => i.Id == id)?.Snapshot() ?? await incidents.GetAsync(id);
        if (incident is null)
        {
            return Page(context, "No such incident", $"<h1>No incident #{id}</h1><p><a href=\"/incidents\">All incidents</a></p>", refresh: false, status: 404);
        }

        var e = incident.Evidence;
        static string Tally(Dictionary<string, long> counts) => counts.Count == 0 ? "-"
            : string.Join(", ", counts.OrderByDescending(c => c.Value).Take(20).Select(c => $"{E(c.Key)} ({E(c.Value)})"));
        var csrf = AdminAccess.CsrfToken(context);
        var main = $"""
            <h1>Incident #{incident.Id} {State(incident.IsOpen ? "open" : "closed")}</h1>
            <p>{AccountLink(incident.Identity.Key)}: {E(incident.Reason)}</p>
            {(incident.IsOpen ? $"<section class=\"actions\">{ReleaseButtons(incident.Identity.Key, csrf)}</section>" : "")}
            <section id="evidence"><h2>Evidence</h2>
            <h3>Counters when suspended</h3>{Bars(e.Counters)}
            <dl>
            <dt>opened</dt><dd>{Time(incident.OpenedAt)}</dd>
            <dt>first / last submission</dt><dd>{Time(e.FirstSubmission)} / {Time(e.LastSubmission)}</dd>
            <dt>refused since</dt><dd>{E(e.RefusedMessages)} messages, {E(e.RefusedRecipients)} recipients</dd>
            <dt>client addresses</dt><dd>{Tally(e.ClientAddresses)}</dd>
            <dt>senders</dt><dd>{Tally(e.Senders)}</dd>
            <dt>recipient domains</dt><dd>{Tally(e.RecipientDomains)}</dd>
            <dt>held queue ids</dt><dd>{(e.QueueIds.Count == 0 ? "-" : E(string.Join(" ", e.QueueIds.Take(200))) + (e.QueueIds.Count > 200 ? $" … ({E(e.QueueIds.Count)})" : ""))}</dd>
            <dt>sample subjects</dt><dd>{(e.Subjects.Count == 0 ? "-" : string.Join("<br>", e.Subjects.Take(20).Select(s => E(s))))}</dd>
            </dl></section>
            <section id="timeline"><h2>Timeline</h2>{IncidentBlock(incident)}</section>
            """;
        return Page(context, $"Incident #{incident.Id}", main, refresh: incident.IsOpen);
    }
}
