using System.Globalization;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Storage;

namespace Floodgate.Admin;

/// <summary>The admin HTTP API (JSON; bearer token or dashboard session, see <see cref="AdminAccess"/>): health, accounts, incidents, exemptions, overrides, audit.</summary>
public static class AdminApi
{
    public const string ActorHeader = "X-Floodgate-Actor";

    public static void Map(WebApplication app)
    {
        SlashInRouteValues.Use(app);
        var api = app.MapGroup("/api");
        api.MapGet("/health", Health);
        api.MapGet("/accounts", Accounts);
        api.MapGet("/accounts/{account}", Account);
        api.MapPost("/accounts/{account}/suspend", Suspend);
        api.MapPost("/accounts/{account}/release", Release);
        api.MapGet("/incidents", Incidents);
        api.MapGet("/incidents/{id:long}", IncidentById);
        api.MapGet("/exemptions", (DecisionEngine engine) => Results.Ok(engine.Exemptions.All.Select(ExemptionView)));
        api.MapPost("/exemptions", Exempt);
        api.MapDelete("/exemptions/{account}", Unexempt);
        api.MapGet("/overrides", (FloodgateOptions options, DecisionEngine engine) => Results.Ok(new
        {
            configured = options.Rules.Rules.Select(r => new { rule = r.Name, max = r.Max, overrides = r.Overrides }),
            set = engine.Overrides.All.Select(o => new { key = o.Key, rule = o.Rule, max = o.Max }),
        }));
        api.MapPost("/overrides", SetOverride);
        api.MapDelete("/overrides/{key}/{rule}", async (string key, string rule, HttpContext context, LimitAdjustments adjustments) =>
            await adjustments.RemoveOverrideAsync(key, rule, Actor(context))
                ? Results.Ok(new { key = IdentityNormalizer.Normalize(key), rule, removed = true })
                : Results.NotFound(new { error = $"{key} has no override of {rule}" }));
        QuarantineApi.Map(api);
        HeldMailApi.Map(api);
        ReloadApi.Map(api);
        api.MapGet("/audit", async (IAuditLog audit, int? limit) => Results.Ok(await audit.ListAsync(Math.Clamp(limit ?? 100, 1, 10_000))));
    }

    private static async Task<IResult> Health(FloodgateOptions options, Hosting.PolicyListeners listeners, IAccountStore accounts,
        IncidentBook containment, MemoryCounterStore counters, TimeProvider time)
    {
        var suspended = await accounts.ListSuspensionsAsync();
        return Results.Ok(new
        {
            status = "ok",
            time = time.GetUtcNow(),
            policy = listeners.Handlers.Select(h => new { endpoint = h.Endpoint.ToString(), connections = h.Handler.Connections }),
            suspended = suspended.Count,
            open_incidents = containment.OpenIncidents.Count,
            tracked_identities = counters.TrackedIdentities,
            limits = options.Rules.Rules.Select(r => r.ToString()),
            mode = ScopeNames.Of(options.Rules.Mode),
            observed_limits = options.Rules.Observed.Select(r => r.Name),
        });
    }

    private static async Task<IResult> Accounts(DecisionEngine engine, IAccountStore accounts, ICounterView counters,
        IncidentBook containment, AccountRanking ranking, TimeProvider time, int? limit, int? offset) =>
        Results.Ok(await ListAccountsAsync(engine, accounts, counters, containment, ranking, time.GetUtcNow(),
            Math.Clamp(limit ?? 200, 1, AccountRanking.Size), Math.Max(0, offset ?? 0)));

    /// <summary>
    /// A page of accounts with state and counters: suspended first (oldest suspension first), then the busiest of the
    /// latest <see cref="AccountRanking"/>. Costs the page's rows, not the number of identities tracked.
    /// </summary>
    internal static async Task<List<AccountState>> ListAccountsAsync(DecisionEngine engine, IAccountStore accounts, ICounterView counters,
        IncidentBook containment, AccountRanking ranking, DateTimeOffset now, int limit, int offset = 0, bool onlySuspended = false,
        bool skipSuspended = false)
    {
        var suspended = (await accounts.ListSuspensionsAsync()).Where(s => s.Identity.Scope == Scope.Account).ToList();
        var suspendedKeys = suspended.Select(s => s.Identity.Key).ToHashSet();
        if (skipSuspended)
        {
            suspended.Clear();
        }

        var views = new List<AccountState>(limit);
        foreach (var s in suspended.Skip(offset).Take(limit))
        {
            views.Add(AccountView(engine, s.Identity.Key, await counters.CountsOfAsync(Scope.Account, s.Identity.Key, now), s, containment));
        }

        if (views.Count < limit && !onlySuspended)
        {
            var busiest = (await ranking.CurrentAsync()).Busiest.Where(k => !suspendedKeys.Contains(k));
            foreach (var key in busiest.Skip(Math.Max(0, offset - suspended.Count)).Take(limit - views.Count))
            {
                views.Add(AccountView(engine, key, await counters.CountsOfAsync(Scope.Account, key, now), null, containment));
            }
        }

        return views;
    }

    /// <summary>One account with state and counters.</summary>
    internal static async Task<AccountState> FindAccountAsync(string account, DecisionEngine engine, IAccountStore accounts, ICounterView counters,
        IncidentBook containment, DateTimeOffset now)
    {
        var key = IdentityNormalizer.Normalize(account);
        var suspension = (await accounts.ListSuspensionsAsync()).FirstOrDefault(s => s.Identity == new Identity(Scope.Account, key));
        return AccountView(engine, key, await counters.CountsOfAsync(Scope.Account, key, now), suspension, containment);
    }

    private static async Task<IResult> Account(string account, DecisionEngine engine, IAccountStore accounts, ICounterView counters,
        IncidentBook containment, TimeProvider time) =>
        Results.Ok(await FindAccountAsync(account, engine, accounts, counters, containment, time.GetUtcNow()));

    private static async Task<IResult> Suspend(string account, SuspendRequest? request, HttpContext context, IncidentBook containment)
    {
        var reason = string.IsNullOrWhiteSpace(request?.Reason) ? "suspended by an admin" : request.Reason;
        var incident = await containment.SuspendAsync(new Identity(Scope.Account, IdentityNormalizer.Normalize(account)), reason, Actor(context));
        return Results.Ok(IncidentView(incident));
    }

    /// <summary>
    /// The identity a release names: the account of that name, unless only another scope's identity of that key is
    /// suspended or has an open incident (a sender, such as "alice@example.com (no login)", or a client address).
    /// </summary>
    internal static async Task<Identity> SuspendedIdentityAsync(string name, IAccountStore accounts, IncidentBook containment)
    {
        var key = IdentityNormalizer.Normalize(name);
        var account = new Identity(Scope.Account, key);
        if (containment.OpenIncidentOf(account) is not null)
        {
            return account;
        }

        var suspended = (await accounts.ListSuspensionsAsync()).Where(s => s.Identity.Key == key).Select(s => s.Identity).ToList();
        return suspended.Contains(account) || suspended.Count == 0
            ? containment.OpenIncidents.FirstOrDefault(i => i.Identity.Key == key)?.Identity ?? account
            : suspended[0];
    }

    private static async Task<IResult> Release(string account, ReleaseRequest? request, HttpContext context, AccountRelease releases,
        IAccountStore accounts, IncidentBook containment)
    {
        var mode = request?.Mode?.ToLowerInvariant() switch
        {
            null or "" or "keep" => ReleaseMode.Keep,
            "deliver" => ReleaseMode.Deliver,
            "purge" => ReleaseMode.Purge,
            var other => (ReleaseMode?)null,
        };
        if (mode is null)
        {
            return Results.BadRequest(new { error = $"mode must be deliver, purge or keep, not '{request!.Mode}'" });
        }

        var outcome = await releases.ReleaseAsync(await SuspendedIdentityAsync(account, accounts, containment), mode.Value, Actor(context));
        if (!outcome.WasSuspended && outcome.Incident is null && outcome.HeldMessages == 0 && outcome.HeldLeft == 0)
        {
            return Results.NotFound(new { error = $"{account} is not suspended and has no held mail" });
        }

        return Results.Ok(new
        {
            account = IdentityNormalizer.Normalize(account),
            released = outcome.WasSuspended,
            incident = outcome.Incident is null ? null : IncidentView(outcome.Incident),
            held_messages = outcome.HeldMessages,
            held_left = outcome.HeldLeft,
            places = outcome.Places.Select(p => new { place = p.Place, acted = p.Acted, left = p.Left, gone = p.Gone, problem = p.Problem }),
            problem = outcome.Problem,
        });
    }

    private static async Task<IResult> Incidents(IIncidentStore incidents, IncidentBook containment, bool? open, int? limit)
    {
        // Open incidents come from memory: their evidence is newer there than on disk.
        var list = open == true
            ? containment.OpenIncidents.OrderByDescending(i => i.Id).ToList()
            : [.. (await incidents.ListAsync(false, Math.Clamp(limit ?? 50, 1, 10_000))).Select(i => containment.OpenIncidentOf(i.Identity) is { } live && live.Id == i.Id ? live : i)];
        return Results.Ok(list.Select(IncidentView));
    }

    private static async Task<IResult> IncidentById(long id, IIncidentStore incidents, IncidentBook containment)
    {
        var incident = containment.OpenIncidents.FirstOrDefault(i => i.Id == id) ?? await incidents.GetAsync(id);
        return incident is null ? Results.NotFound(new { error = $"no incident {id}" }) : Results.Ok(IncidentView(incident));
    }

    private static async Task<IResult> Exempt(ExemptRequest request, HttpContext context, LimitAdjustments containment, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(request.Account))
        {
            return Results.BadRequest(new { error = "account is required" });
        }

        if (!DateTimeOffset.TryParse(request.Until, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var until) || until <= time.GetUtcNow())
        {
            return Results.BadRequest(new { error = $"until must be a future time such as 2026-11-27T18:00 or 2026-11-27T18:00:00Z, not '{request.Until}'" });
        }

        if (request.Max is < 0)
        {
            return Results.BadRequest(new { error = "max must not be negative" });
        }

        var exemption = await containment.ExemptAsync(request.Account, request.Max, until, Actor(context));
        return Results.Ok(ExemptionView(exemption));
    }

    private static async Task<IResult> SetOverride(OverrideRequest request, HttpContext context, LimitAdjustments containment, FloodgateOptions options)
    {
        if (string.IsNullOrWhiteSpace(request.Key) || request.Max is not { } max || max < 0)
        {
            return Results.BadRequest(new { error = "key and a max of 0 or more are required" });
        }

        if (!options.Rules.Rules.Any(r => r.Name == request.Rule))
        {
            return Results.BadRequest(new { error = $"there is no limit named '{request.Rule}' (limits: {string.Join(", ", options.Rules.Rules.Select(r => r.Name))})" });
        }

        await containment.SetOverrideAsync(request.Key, request.Rule!, max, Actor(context));
        return Results.Ok(new { key = IdentityNormalizer.Normalize(request.Key), rule = request.Rule, max });
    }

    private static async Task<IResult> Unexempt(string account, HttpContext context, LimitAdjustments containment) =>
        await containment.RemoveExemptionAsync(account, Actor(context))
            ? Results.Ok(new { account = IdentityNormalizer.Normalize(account), removed = true })
            : Results.NotFound(new { error = $"{account} has no exemption" });

    internal static string Actor(HttpContext context)
    {
        var actor = context.Request.Headers[ActorHeader].ToString();
        return !string.IsNullOrWhiteSpace(actor) ? (actor.Length > 64 ? actor[..64] : actor)
            : context.User.Identity?.IsAuthenticated == true ? "dashboard" : "api";
    }

    internal static AccountState AccountView(DecisionEngine engine, string key, long[] counts, Suspension? suspension, IncidentBook containment)
    {
        var counters = engine.Rules.Rules.Where(r => r.Scope == Scope.Account)
            .Select(r => new CounterValue(r.Name, r.UnitText, Math.Max(0, counts[r.Index]),
                engine.Overrides.TryGet(r.Name, key, out var set) ? set : r.MaxFor(key), r.WindowText))
            .ToList();
        var incident = containment.OpenIncidentOf(new Identity(Scope.Account, key));
        return new AccountState(
            key,
            suspension is null ? "active" : "suspended",
            suspension?.Since,
            suspension?.Rule,
            suspension?.Reason,
            suspension?.By,
            incident?.Id,
            incident?.AutoReleaseAt,
            counters,
            counters.Count == 0 ? 0 : counters.Max(c => c.Max == 0 ? 1.0 : (double)c.Count / c.Max));
    }

    private static object IncidentView(Incident live)
    {
        // Serialized after this returns, while the decision path may still be adding evidence: use a copy.
        var incident = live.Snapshot();
        return new
        {
            id = incident.Id,
            identity = new { scope = ScopeNames.Of(incident.Identity.Scope), key = incident.Identity.Key },
            rule = incident.Rule,
            reason = incident.Reason,
            state = incident.IsOpen ? "open" : "closed",
            observe_only = incident.IsObserveOnly,
            opened_at = incident.OpenedAt,
            auto_release_at = incident.AutoReleaseAt,
            closed_at = incident.ClosedAt,
            closed_by = incident.ClosedBy,
            resolution = incident.Resolution,
            evidence = incident.Evidence,
            timeline = incident.Timeline,
        };
    }

    private static object ExemptionView(Exemption e) => new { account = e.Key, max = e.Max, until = e.Until, by = e.By, created_at = e.CreatedAt };

    private sealed record SuspendRequest(string? Reason);

    private sealed record ReleaseRequest(string? Mode);

    private sealed record ExemptRequest(string? Account, long? Max, string? Until);

    private sealed record OverrideRequest(string? Key, string? Rule, long? Max);
}
