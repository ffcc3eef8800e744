using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Quarantine;

namespace Floodgate.Admin;

/// <summary>The admin API's view of the held-mail ledger: an account's held mail in every place, and what Postfix holds that Floodgate never recorded.</summary>
public static class HeldMailApi
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/held", async (HeldMail held, string? account, int? limit) =>
        {
            Identity? identity = string.IsNullOrWhiteSpace(account) ? null : new Identity(Scope.Account, IdentityNormalizer.Normalize(account));
            var entries = await held.ListAsync(identity, Math.Clamp(limit ?? 1000, 1, 100_000));
            return Results.Ok(new
            {
                account = identity?.Key,
                count = identity is { } i ? await held.CountAsync(i) : entries.Count,
                messages = entries.Select(e => new
                {
                    place = e.Place,
                    id = e.Id,
                    identity = e.Identity,
                    reason = e.Reason,
                    held_at = e.HeldAt,
                    enforcement_point = e.EnforcementPoint,
                    sender = e.Sender,
                }),
            });
        });
        api.MapGet("/held/unrecorded", async (PostfixHeldMail postfix) =>
        {
            var (ids, problem) = await postfix.UnrecordedAsync();
            return problem is null
                ? Results.Ok(new { count = ids.Count, queue_ids = ids, note = "held in Postfix's hold queue but never recorded by Floodgate; left alone (postsuper -H or -d by hand)" })
                : Results.Problem(problem, statusCode: 502);
        });
        api.MapPost("/held/unrecorded/release", async (UnrecordedRequest? request, HttpContext context, PostfixHeldMail postfix, IAuditLog audit, TimeProvider time) =>
        {
            var mode = request?.Mode switch { "deliver" => ReleaseMode.Deliver, "purge" => ReleaseMode.Purge, _ => (ReleaseMode?)null };
            if (mode is null)
            {
                return Results.BadRequest(new { error = $"mode must be deliver or purge, not '{request?.Mode}'" });
            }

            var done = await postfix.ReleaseUnrecordedAsync(mode.Value, AdminApi.Actor(context));
            await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), AdminApi.Actor(context), "release unrecorded", "postfix hold queue",
                done.Describe(mode == ReleaseMode.Deliver ? "delivered" : "purged")));
            return Results.Ok(new { acted = done.Acted, left = done.Left, problem = done.Problem });
        });
    }

    private sealed record UnrecordedRequest(string? Mode);
}
