using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>Window counters saved to SQLite every few seconds and read back at start, so a restart forgets nothing.</summary>
public sealed class SqliteCounterSnapshots(FloodgateDatabase database)
{
    /// <summary>
    /// Saves changed windows in one transaction; <paramref name="synced"/> makes it survive a power loss too, as the
    /// journal it replaces does.
    /// </summary>
    public void Save(IReadOnlyList<CounterSnapshot> rows, DateTimeOffset now, bool synced = false)
    {
        if (rows.Count == 0)
        {
            return;
        }

        database.InTransaction((c, t) =>
        {
            using var upsert = c.CreateCommand();
            upsert.Transaction = t;
            upsert.CommandText = """
                INSERT INTO counters (scope, key, rule, slot_ticks, window, saved_at, lsn)
                VALUES ($scope, $key, $rule, $slot, $window, $saved, $lsn)
                ON CONFLICT (scope, key, rule) DO UPDATE
                SET slot_ticks = excluded.slot_ticks, window = excluded.window, saved_at = excluded.saved_at, lsn = excluded.lsn
                """;
            var scope = upsert.Parameters.Add("$scope", Microsoft.Data.Sqlite.SqliteType.Text);
            var key = upsert.Parameters.Add("$key", Microsoft.Data.Sqlite.SqliteType.Text);
            var rule = upsert.Parameters.Add("$rule", Microsoft.Data.Sqlite.SqliteType.Text);
            var slot = upsert.Parameters.Add("$slot", Microsoft.Data.Sqlite.SqliteType.Integer);
            var window = upsert.Parameters.Add("$window", Microsoft.Data.Sqlite.SqliteType.Blob);
            var saved = upsert.Parameters.Add("$saved", Microsoft.Data.Sqlite.SqliteType.Integer);
            var lsn = upsert.Parameters.Add("$lsn", Microsoft.Data.Sqlite.SqliteType.Integer);
            upsert.Prepare();
            foreach (var row in rows)
            {
                scope.Value = ScopeNames.Of(row.Scope);
                key.Value = row.Key;
                rule.Value = row.Rule;
                slot.Value = row.SlotTicks;
                window.Value = row.Window;
                saved.Value = now.UtcTicks;
                lsn.Value = row.Lsn;
                upsert.ExecuteNonQuery();
            }
        }, synced);
    }

    /// <summary>Deletes an identity's saved windows (its counters were reset).</summary>
    public void Delete(Scope scope, string key) => Delete([new Identity(scope, key)]);

    /// <summary>Deletes the saved windows of identities whose counters were reset or forgotten, in one transaction.</summary>
    public void Delete(IReadOnlyList<Identity> identities)
    {
        if (identities.Count == 0)
        {
            return;
        }

        database.InTransaction((c, t) =>
        {
            using var delete = c.CreateCommand();
            delete.Transaction = t;
            delete.CommandText = "DELETE FROM counters WHERE scope = $scope AND key = $key";
            var scope = delete.Parameters.Add("$scope", Microsoft.Data.Sqlite.SqliteType.Text);
            var key = delete.Parameters.Add("$key", Microsoft.Data.Sqlite.SqliteType.Text);
            delete.Prepare();
            foreach (var identity in identities)
            {
                scope.Value = ScopeNames.Of(identity.Scope);
                key.Value = identity.Key;
                delete.ExecuteNonQuery();
            }
        });
    }

    /// <summary>Every saved window.</summary>
    public List<CounterSnapshot> Load() => database.Run(c =>
    {
        using var select = c.CreateCommand();
        select.CommandText = "SELECT scope, key, rule, slot_ticks, window, lsn FROM counters";
        using var reader = select.ExecuteReader();
        var rows = new List<CounterSnapshot>();
        while (reader.Read())
        {
            if (ScopeNames.TryParseScope(reader.GetString(0), out var scope))
            {
                rows.Add(new CounterSnapshot(scope, reader.GetString(1), reader.GetString(2), reader.GetInt64(3), (byte[])reader.GetValue(4), reader.GetInt64(5)));
            }
        }

        return rows;
    });

    /// <summary>Deletes windows last saved longer ago than <paramref name="longestWindow"/> (and a margin): they are empty.</summary>
    public int DeleteOlderThan(DateTimeOffset now, TimeSpan longestWindow) => database.Run(c =>
    {
        using var delete = c.CreateCommand();
        delete.CommandText = "DELETE FROM counters WHERE saved_at < $cutoff";
        delete.Parameters.AddWithValue("$cutoff", (now - longestWindow - longestWindow / LimitRule.SlotsPerWindow - TimeSpan.FromMinutes(1)).UtcTicks);
        return delete.ExecuteNonQuery();
    });
}
