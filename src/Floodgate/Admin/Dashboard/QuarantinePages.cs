using Floodgate.Incidents;
using Floodgate.Quarantine;
using Floodgate.Relay;
using static Floodgate.Admin.Dashboard.Html;

namespace Floodgate.Admin.Dashboard;

/// <summary>
/// The dashboard's quarantine: the relay's held mail per account, one message's headers and start of body, and
/// release (into the outbound queue) or purge of one message or all of an account's.
/// </summary>
public static class QuarantinePages
{
    private const string Actor = "dashboard";

    public static void Map(WebApplication app)
    {
        app.MapGet("/quarantine", List);
        app.MapGet("/quarantine/{id}", Show);
        app.MapPost("/quarantine/{id}/release", async (string id, RelayQuarantine quarantine) =>
            Done(await quarantine.ReleaseAsync(id, Actor) ? "message-released" : "message-not-held"));
        app.MapPost("/quarantine/{id}/purge", async (string id, RelayQuarantine quarantine) =>
            Done(await quarantine.PurgeAsync(id, Actor) ? "message-purged" : "message-not-held"));
        app.MapPost("/quarantine/release", (HttpContext context, RelayQuarantine quarantine) => ActOnAccountAsync(context, quarantine, ReleaseMode.Deliver));
        app.MapPost("/quarantine/purge", (HttpContext context, RelayQuarantine quarantine) => ActOnAccountAsync(context, quarantine, ReleaseMode.Purge));
    }

    private static IResult List(HttpContext context, RelayQuarantine quarantine, IOutboundDelivery outbound, string? account, string? done, long? n)
    {
        var csrf = AdminAccess.CsrfToken(context);
        var all = quarantine.List();
        var held = account is null ? all : quarantine.List(account);
        var perAccount = all.GroupBy(m => Key(m.HeldFor ?? m.CountedAs) ?? "(unknown)").OrderByDescending(g => g.Count()).ToList();
        var accountRows = perAccount.Count == 0
            ? "<tr><td colspan=\"4\" class=\"empty\">Nothing is held.</td></tr>"
            : string.Concat(perAccount.Select(g => $"""
                <tr data-account="{E(g.Key)}"><td><a href="/quarantine?account={E(Uri.EscapeDataString(g.Key))}">{E(g.Key)}</a></td><td>{E(g.Count())}</td>
                <td>{E(g.Sum(m => m.Size))} bytes</td><td class="actions">{AccountButtons(g.Key, csrf)}</td></tr>
                """));
        var messageRows = held.Count == 0
            ? "<tr><td colspan=\"7\" class=\"empty\">No held message here.</td></tr>"
            : string.Concat(held.Take(500).Select(m => $"""
                <tr data-id="{E(m.Id)}"><td><a href="/quarantine/{E(m.Id)}">{E(m.Subject ?? "(no subject)")}</a></td><td>{E(Key(m.HeldFor ?? m.CountedAs))}</td>
                <td>{E(m.Sender.Length == 0 ? "<>" : m.Sender)}</td><td>{E(Recipients(m))}</td><td>{E(m.Size)}</td><td>{Time(m.ReceivedAt)}</td>
                <td class="actions">{MessageButtons(m.Id, csrf)}</td></tr>
                """));
        var main = $"""
            <h1>Quarantine{(account is null ? "" : $": {E(account)}")}</h1>
            {Flash.Html(done, n)}
            <section class="tiles">
            <div class="tile{(all.Count > 0 ? " alarm" : "")}" id="tile-quarantine"><span class="number">{E(all.Count)}</span>messages held</div>
            <div class="tile"><span class="number">{E(all.Sum(m => m.Size))}</span>bytes held</div>
            <div class="tile"><span class="number">{E(outbound.Depth)}</span>waiting for the next hop</div>
            </section>
            <section id="held-accounts"><h2>Held per account</h2>
            <table><thead><tr><th>account</th><th>messages</th><th>size</th><th></th></tr></thead><tbody>{accountRows}</tbody></table>
            </section>
            <section id="held-messages"><h2>{(account is null ? "All held messages" : "Its held messages")} (oldest first{(held.Count > 500 ? ", first 500" : "")})</h2>
            <table><thead><tr><th>subject</th><th>account</th><th>sender</th><th>recipients</th><th>bytes</th><th>received</th><th></th></tr></thead><tbody>{messageRows}</tbody></table>
            </section>
            """;
        return Page(context, "Quarantine", main);
    }

    private static async Task<IResult> Show(string id, HttpContext context, RelayQuarantine quarantine)
    {
        if (await quarantine.ShowAsync(id) is not { } shown)
        {
            return Page(context, "Not held", $"<h1>Not held</h1><p class=\"empty\">No message {E(id)} is in the quarantine (released or purged already?). <a href=\"/quarantine\">Back to the quarantine</a>.</p>",
                refresh: false, status: 404);
        }

        var m = shown.Message;
        var csrf = AdminAccess.CsrfToken(context);
        var main = $"""
            <h1>Held message</h1>
            <dl id="envelope">
            <dt>subject</dt><dd>{E(m.Subject ?? "(no subject)")}</dd>
            <dt>held for</dt><dd>{E(m.HeldFor)} — {E(m.HeldReason)}</dd>
            <dt>sender</dt><dd>{E(m.Sender.Length == 0 ? "<>" : m.Sender)} from {E(m.ClientAddress)}{(m.Login is null ? "" : $" (login {E(m.Login)})")}</dd>
            <dt>recipients</dt><dd>{E(string.Join(", ", m.Recipients))}</dd>
            <dt>received</dt><dd>{Time(m.ReceivedAt)}, {E(m.Size)} bytes</dd>
            <dt>id</dt><dd><code>{E(m.Id)}</code></dd>
            </dl>
            <div class="actions" id="message-actions">{MessageButtons(m.Id, csrf)}</div>
            <section><h2>Headers</h2><pre id="headers">{E(shown.Headers)}</pre></section>
            <section><h2>Start of the body</h2><pre id="body">{E(shown.BodyStart)}{(shown.BodyCut ? "\n[… the rest is not shown]" : "")}</pre></section>
            """;
        return Page(context, "Held message", main, refresh: false);
    }

    private static async Task<IResult> ActOnAccountAsync(HttpContext context, RelayQuarantine quarantine, ReleaseMode mode)
    {
        var form = await context.Request.ReadFormAsync();
        var account = form["account"].ToString();
        if (account.Length == 0)
        {
            return Done("no-account");
        }

        var count = await quarantine.ReleaseAllAsync(account, mode, Actor);
        return Done(mode == ReleaseMode.Purge ? "account-purged" : "account-released", count);
    }

    private static string AccountButtons(string account, string csrf) =>
        Button("/quarantine/release", csrf, "Release all", "primary", null, ("account", account))
        + Button("/quarantine/purge", csrf, "Purge all", "danger", $"DELETE all of {account}'s held messages?", ("account", account));

    private static string MessageButtons(string id, string csrf) =>
        Button($"/quarantine/{Uri.EscapeDataString(id)}/release", csrf, "Release", "primary")
        + Button($"/quarantine/{Uri.EscapeDataString(id)}/purge", csrf, "Purge", "danger", "DELETE this held message?");

    private static IResult Done(string flash, long count = 0) => Results.Redirect("/quarantine?" + Flash.Query(flash, count));

    private static string Recipients(SpooledMessage m) => m.Recipients.Count == 1 ? m.Recipients[0] : $"{m.Recipients[0]} +{m.Recipients.Count - 1}";

    private static string? Key(string? identity) => identity?[(identity.IndexOf(':', StringComparison.Ordinal) + 1)..];
}
