using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>Where time-limited exemptions and API-set overrides are kept: SQLite in the embedded default, Redis in a cluster.</summary>
public interface IExemptionStore
{
    void Save(Exemption exemption);

    bool Delete(string key);

    /// <summary>Exemptions that have not yet expired at <paramref name="now"/>.</summary>
    List<Exemption> Load(DateTimeOffset now);

    void SaveOverride(string key, string rule, long max, string by, DateTimeOffset at);

    bool DeleteOverride(string key, string rule);

    List<(string Key, string Rule, long Max)> LoadOverrides();
}
