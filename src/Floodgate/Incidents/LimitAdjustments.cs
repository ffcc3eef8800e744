using Floodgate.Engine;
using Floodgate.Storage;

namespace Floodgate.Incidents;

/// <summary>
/// The admin's adjustments to the limits: time-limited exemptions and lasting per-account or per-domain overrides,
/// kept in the store (shared in a cluster) and applied to the engine's tables.
/// </summary>
public sealed class LimitAdjustments(IExemptionStore store, DecisionEngine engine, IAuditLog audit, TimeProvider time)
{
    /// <summary>Makes the engine's exemptions and overrides those of the store (at start; in a cluster another node may have changed them).</summary>
    public void Sync()
    {
        var exemptions = store.Load(time.GetUtcNow());
        foreach (var exemption in exemptions)
        {
            engine.Exemptions.Set(exemption);
        }

        foreach (var gone in engine.Exemptions.All.Where(e => !exemptions.Any(x => x.Key == e.Key)))
        {
            engine.Exemptions.Remove(gone.Key);
        }

        var overrides = store.LoadOverrides();
        foreach (var (key, rule, max) in overrides)
        {
            engine.Overrides.Set(key, rule, max);
        }

        foreach (var (key, rule, _) in engine.Overrides.All.Where(o => !overrides.Any(x => x.Key == o.Key && x.Rule == o.Rule)))
        {
            engine.Overrides.Remove(key, rule);
        }
    }

    /// <summary>Grants a time-limited exemption (no limit when <paramref name="max"/> is null).</summary>
    public async Task<Exemption> ExemptAsync(string key, long? max, DateTimeOffset until, string by)
    {
        var exemption = new Exemption(IdentityNormalizer.Normalize(key), max, until, by, time.GetUtcNow());
        store.Save(exemption);
        engine.Exemptions.Set(exemption);
        await audit.AppendAsync(new AuditEntry(exemption.CreatedAt, by, "exempt", exemption.Key,
            $"{(max is null ? "no limit" : $"limits raised to {max}")} until {until:u}"));
        return exemption;
    }

    public async Task<bool> RemoveExemptionAsync(string key, string by)
    {
        var removed = store.Delete(IdentityNormalizer.Normalize(key)) | engine.Exemptions.Remove(key);
        if (removed)
        {
            await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), by, "unexempt", IdentityNormalizer.Normalize(key), null));
        }

        return removed;
    }

    /// <summary>Sets a lasting per-account or per-domain limit for one rule (wins over the configuration's).</summary>
    public async Task SetOverrideAsync(string key, string rule, long max, string by)
    {
        var now = time.GetUtcNow();
        store.SaveOverride(IdentityNormalizer.Normalize(key), rule, max, by, now);
        engine.Overrides.Set(key, rule, max);
        await audit.AppendAsync(new AuditEntry(now, by, "override", IdentityNormalizer.Normalize(key), $"{rule}: {max}"));
    }

    public async Task<bool> RemoveOverrideAsync(string key, string rule, string by)
    {
        var removed = store.DeleteOverride(IdentityNormalizer.Normalize(key), rule) | engine.Overrides.Remove(key, rule);
        if (removed)
        {
            await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), by, "remove-override", IdentityNormalizer.Normalize(key), rule));
        }

        return removed;
    }
}
