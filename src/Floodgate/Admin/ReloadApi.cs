using Floodgate.Engine;
using Floodgate.Hosting;

namespace Floodgate.Admin;

/// <summary>POST /api/reload: reads the configuration file again, as SIGHUP does, and says what was applied.</summary>
public static class ReloadApi
{
    public static void Map(RouteGroupBuilder api) => api.MapPost("/reload", async (HttpContext context, ConfigReload reload, IAuditLog audit, TimeProvider time) =>
    {
        var outcome = reload.Reload();
        var view = new
        {
            applied = outcome.Applied,
            error = outcome.Problem,
            mode = ScopeNames.Of(outcome.Mode),
            observed_limits = outcome.ObservedLimits,
            restart_needed = outcome.RestartNeeded,
        };
        await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), AdminApi.Actor(context), "reload", "configuration",
            outcome.Applied ? $"mode {view.mode}; observed limits: {string.Join(", ", outcome.ObservedLimits)}; restart needed for: {string.Join(", ", outcome.RestartNeeded)}"
                : "refused: " + outcome.Problem));
        return outcome.Applied ? Results.Ok(view) : Results.UnprocessableEntity(view);
    });
}
