using Floodgate.Configuration;
using Floodgate.Engine;

namespace Floodgate.Hosting;

/// <summary>
/// Reads the configuration file again (on SIGHUP, `floodgate reload` or POST /api/reload) and applies what can change
/// while running: the deployment's mode and each limit's. A file that does not validate is refused and the running
/// configuration stays; any other changed key is named as needing a restart.
/// </summary>
public sealed partial class ConfigReload(FloodgateOptions options, ILogger<ConfigReload> logger)
{
    private readonly Lock _lock = new();

    /// <summary>Reloads now; the outcome says what was applied, or why nothing was.</summary>
    public ReloadOutcome Reload()
    {
        lock (_lock)
        {
            if (options.ConfigFile is not { } file)
            {
                const string Why = "Floodgate was started without a configuration file (the embedded default): there is nothing to read again";
                LogRefused(options.Source, Why);
                return ReloadOutcome.Refused(Why, options.Rules);
            }

            FloodgateOptions fresh;
            try
            {
                fresh = ConfigLoader.Load(file, options.Environment);
            }
            catch (ConfigException e)
            {
                LogRefused(file, e.Message);
                return ReloadOutcome.Refused(e.Message, options.Rules);
            }
            catch (Exception e)
            {
                // Run from a signal: whatever goes wrong is reported, never thrown at the thread pool.
                LogRefused(file, $"{e.GetType().Name}: {e.Message}");
                return ReloadOutcome.Refused(e.Message, options.Rules);
            }

            var rules = options.Rules;
            rules.Mode = fresh.Rules.Mode;
            foreach (var rule in rules.Rules)
            {
                // A limit the file no longer has keeps its mode until the restart that drops it.
                if (fresh.Rules.Rules.FirstOrDefault(r => r.Name == rule.Name) is { } now)
                {
                    rule.Mode = now.Mode;
                }
            }

            var restart = options.Sections.Keys.Union(fresh.Sections.Keys)
                .Where(key => options.Sections.GetValueOrDefault(key) != fresh.Sections.GetValueOrDefault(key))
                .Order(StringComparer.Ordinal)
                .ToList();
            var outcome = new ReloadOutcome(true, null, rules.Mode, [.. rules.Observed.Select(r => r.Name)], restart);
            LogReloaded(file, ScopeNames.Of(rules.Mode), outcome.ObservedLimits.Count == 0 ? "none" : string.Join(", ", outcome.ObservedLimits),
                restart.Count == 0 ? "none" : string.Join(", ", restart));
            return outcome;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "reload: {Source} refused, the running configuration stays as it was: {Problem}")]
    private partial void LogRefused(string source, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "reload: {File} applied: mode {Mode}; limits in observe mode: {Observed}; changed keys that need a restart to take effect: {Restart}")]
    private partial void LogReloaded(string file, string mode, string observed, string restart);
}
