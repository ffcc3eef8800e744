using System.Globalization;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// Time-limited exemptions and API-set overrides in SQLite, loaded into the engine's <see cref="ExemptionTable"/> and
/// <see cref="OverrideTable"/> at start.
/// </summary>
public sealed class SqliteExemptions(FloodgateDatabase database) : IExemptionStore
{
    public void Save(Exemption exemption) => database.Run(c =>
    {
        using var upsert = c.CreateCommand();
        upsert.CommandText = """
            INSERT OR REPLACE INTO exemptions (key, max, until, created_by, created_at) VALUES ($key, $max, $until, $by, $at)
            """;
        upsert.Parameters.AddWithValue("$key", exemption.Key);
        upsert.Parameters.AddWithValue("$max", (object?)exemption.Max ?? DBNull.Value);
        upsert.Parameters.AddWithValue("$until", exemption.Until.ToString("O", CultureInfo.InvariantCulture));
        upsert.Parameters.AddWithValue("$by", exemption.By);
        upsert.Parameters.AddWithValue("$at", exemption.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        return upsert.ExecuteNonQuery();
    });

    public bool Delete(string key) => database.Run(c =>
    {
        using var delete = c.CreateCommand();
        delete.CommandText = "DELETE FROM exemptions WHERE key = $key";
        delete.Parameters.AddWithValue("$key", key);
        return delete.ExecuteNonQuery() > 0;
    });

    /// <summary>Exemptions that have not yet expired at <paramref name="now"/>.</summary>
    public List<Exemption> Load(DateTimeOffset now) => database.Run(c =>
    {
        using var select = c.CreateCommand();
        select.CommandText = "SELECT key, max, until, created_by, created_at FROM exemptions";
        using var reader = select.ExecuteReader();
        var result = new List<Exemption>();
        while (reader.Read())
        {
            var exemption = new Exemption(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt64(1),
                DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture), reader.GetString(3),
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture));
            if (exemption.Until > now)
            {
                result.Add(exemption);
            }
        }

        return result;
    });

    public void SaveOverride(string key, string rule, long max, string by, DateTimeOffset at) => database.Run(c =>
    {
        using var upsert = c.CreateCommand();
        upsert.CommandText = "INSERT OR REPLACE INTO overrides (key, rule, max, created_by, created_at) VALUES ($key, $rule, $max, $by, $at)";
        upsert.Parameters.AddWithValue("$key", key);
        upsert.Parameters.AddWithValue("$rule", rule);
        upsert.Parameters.AddWithValue("$max", max);
        upsert.Parameters.AddWithValue("$by", by);
        upsert.Parameters.AddWithValue("$at", at.ToString("O", CultureInfo.InvariantCulture));
        return upsert.ExecuteNonQuery();
    });

    public bool DeleteOverride(string key, string rule) => database.Run(c =>
    {
        using var delete = c.CreateCommand();
        delete.CommandText = "DELETE FROM overrides WHERE key = $key AND rule = $rule";
        delete.Parameters.AddWithValue("$key", key);
        delete.Parameters.AddWithValue("$rule", rule);
        return delete.ExecuteNonQuery() > 0;
    });

    public List<(string Key, string Rule, long Max)> LoadOverrides() => database.Run(c =>
    {
        using var select = c.CreateCommand();
        select.CommandText = "SELECT key, rule, max FROM overrides";
        using var reader = select.ExecuteReader();
        var result = new List<(string, string, long)>();
        while (reader.Read())
        {
            result.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return result;
    });
}
