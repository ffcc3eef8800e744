using Floodgate.Behaviour;

namespace Floodgate.Storage;

/// <summary>Account behaviour profiles in the embedded store's SQLite database: one row per account, its state as one blob.</summary>
public sealed class SqliteProfiles : IProfileStore
{
    private readonly FloodgateDatabase _database;

    public SqliteProfiles(FloodgateDatabase database)
    {
        _database = database;
        // Its own table, made where it is missing rather than by a numbered migration: a profile is learned again
        // from mail if it is ever lost, so it needs no place in the schema's history.
        _database.Run(c =>
        {
            using var create = c.CreateCommand();
            create.CommandText = "CREATE TABLE IF NOT EXISTS behaviour_profiles (account TEXT PRIMARY KEY, state BLOB NOT NULL, saved_at INTEGER NOT NULL)";
            return create.ExecuteNonQuery();
        });
    }

    public IEnumerable<(string Account, byte[] State)> LoadAll() => _database.Run(c =>
    {
        using var select = c.CreateCommand();
        select.CommandText = "SELECT account, state FROM behaviour_profiles";
        using var reader = select.ExecuteReader();
        var result = new List<(string, byte[])>();
        while (reader.Read())
        {
            result.Add((reader.GetString(0), (byte[])reader.GetValue(1)));
        }

        return result;
    });

    public void Save(IReadOnlyList<(string Account, byte[] State)> profiles)
    {
        if (profiles.Count == 0)
        {
            return;
        }

        _database.InTransaction((c, t) =>
        {
            using var upsert = c.CreateCommand();
            upsert.Transaction = t;
            upsert.CommandText = "INSERT OR REPLACE INTO behaviour_profiles (account, state, saved_at) VALUES ($account, $state, $at)";
            var account = upsert.Parameters.Add("$account", Microsoft.Data.Sqlite.SqliteType.Text);
            var state = upsert.Parameters.Add("$state", Microsoft.Data.Sqlite.SqliteType.Blob);
            var at = upsert.Parameters.Add("$at", Microsoft.Data.Sqlite.SqliteType.Integer);
            at.Value = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            foreach (var (name, bytes) in profiles)
            {
                account.Value = name;
                state.Value = bytes;
                upsert.ExecuteNonQuery();
            }
        });
    }
}
