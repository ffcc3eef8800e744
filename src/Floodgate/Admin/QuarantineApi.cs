using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Quarantine;
using Floodgate.Relay;

namespace Floodgate.Admin;

/// <summary>The admin API's relay part: the quarantine (list, show, release, purge, per message or per account) and the outbound queue.</summary>
public static class QuarantineApi
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/relay", (RelayQuarantine quarantine, IOutboundDelivery outbound, Hosting.RelayListeners listeners) => Results.Ok(new
        {
            listeners = listeners.Handlers.Select(h => new { endpoint = h.Endpoint.ToString(), connections = h.Handler.Connections }),
            outbound_queue = outbound.Depth,
            quarantined = quarantine.Count,
            quarantined_bytes = quarantine.Bytes,
        }));
        api.MapGet("/quarantine", (RelayQuarantine quarantine, string? account, int? limit) =>
        {
            var held = quarantine.List(account);
            return Results.Ok(new
            {
                count = held.Count,
                bytes = held.Sum(m => m.Size),
                messages = held.Take(Math.Clamp(limit ?? 1000, 1, 100_000)).Select(View),
            });
        });
        api.MapGet("/quarantine/{id}", async (string id, RelayQuarantine quarantine, int? body) =>
            await quarantine.ShowAsync(id, Math.Clamp(body ?? 4096, 0, 1024 * 1024)) is { } shown
                ? Results.Ok(new { message = View(shown.Message), headers = shown.Headers, body_start = shown.BodyStart, body_cut = shown.BodyCut })
                : NotHeld(id));
        api.MapPost("/quarantine/{id}/release", async (string id, HttpContext context, RelayQuarantine quarantine) =>
            await quarantine.ReleaseAsync(id, AdminApi.Actor(context)) ? Results.Ok(new { id, released = true }) : NotHeld(id));
        api.MapPost("/quarantine/{id}/purge", async (string id, HttpContext context, RelayQuarantine quarantine) =>
            await quarantine.PurgeAsync(id, AdminApi.Actor(context)) ? Results.Ok(new { id, purged = true }) : NotHeld(id));
        api.MapPost("/quarantine/release", (QuarantineRequest request, HttpContext context, RelayQuarantine quarantine) =>
            ActOnAccount(request, ReleaseMode.Deliver, context, quarantine));
        api.MapPost("/quarantine/purge", (QuarantineRequest request, HttpContext context, RelayQuarantine quarantine) =>
            ActOnAccount(request, ReleaseMode.Purge, context, quarantine));
    }

    private static async Task<IResult> ActOnAccount(QuarantineRequest request, ReleaseMode mode, HttpContext context, RelayQuarantine quarantine)
    {
        if (string.IsNullOrWhiteSpace(request.Account))
        {
            return Results.BadRequest(new { error = "name the account whose held messages to act on: {\"account\": \"alice@example.com\"}" });
        }

        var count = await quarantine.ReleaseAllAsync(request.Account, mode, AdminApi.Actor(context));
        return Results.Ok(new { account = IdentityNormalizer.Normalize(request.Account), messages = count, action = mode == ReleaseMode.Purge ? "purged" : "released" });
    }

    private static IResult NotHeld(string id) => Results.NotFound(new { error = $"no message {id} is held in the quarantine" });

    private static object View(SpooledMessage m) => new
    {
        id = m.Id,
        held_for = m.HeldFor,
        counted_as = m.CountedAs,
        sender = m.Sender,
        recipients = m.Recipients,
        subject = m.Subject,
        from = m.From,
        message_id = m.MessageId,
        size = m.Size,
        client_address = m.ClientAddress,
        login = m.Login,
        received_at = m.ReceivedAt,
        held_at = m.HeldAt,
        reason = m.HeldReason,
    };

    /// <summary>Body of the per-account quarantine actions.</summary>
    public sealed record QuarantineRequest(string? Account);
}
