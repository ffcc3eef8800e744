using System.Globalization;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// Suspensions that survive restarts and crashes: every change is committed to SQLite before it is reported, and
/// decisions read a memory copy, so the hot path never touches the disk.
/// </summary>
public sealed class SqliteAccountStore : IAccountStore
{
    private readonly FloodgateDatabase _database;
    private readonly MemoryAccountStore _memory = new();

    public SqliteAccountStore(FloodgateDatabase database)
    {
        _database = database;
        foreach (var suspension in Load())
        {
            _memory.SuspendAsync(suspension).AsTask().GetAwaiter().GetResult();
        }
    }

    public ValueTask<Suspension?> FindSuspensionAsync(IdentityKeys keys) => _memory.FindSuspensionAsync(keys);

    public async ValueTask<bool> SuspendAsync(Suspension suspension)
    {
        if (!await _memory.SuspendAsync(suspension))
        {
            return false;
        }

        try
        {
            // Durable before the answer that reports the suspension is sent.
            _database.Run(c =>
            {
                using var insert = c.CreateCommand();
                insert.CommandText = """
                    INSERT OR REPLACE INTO suspensions (scope, key, since, rule, reason, by, release_at)
                    VALUES ($scope, $key, $since, $rule, $reason, $by, NULL)
                    """;
                insert.Parameters.AddWithValue("$scope", ScopeNames.Of(suspension.Identity.Scope));
                insert.Parameters.AddWithValue("$key", suspension.Identity.Key);
                insert.Parameters.AddWithValue("$since", suspension.Since.ToString("O", CultureInfo.InvariantCulture));
                insert.Parameters.AddWithValue("$rule", (object?)suspension.Rule ?? DBNull.Value);
                insert.Parameters.AddWithValue("$reason", suspension.Reason);
                insert.Parameters.AddWithValue("$by", suspension.By);
                return insert.ExecuteNonQuery();
            });
        }
        catch
        {
            await _memory.ReleaseAsync(suspension.Identity);
            throw;
        }

        return true;
    }

    public async ValueTask<bool> ReleaseAsync(Identity identity)
    {
        var deleted = _database.Run(c =>
        {
            using var delete = c.CreateCommand();
            delete.CommandText = "DELETE FROM suspensions WHERE scope = $scope AND key = $key";
            delete.Parameters.AddWithValue("$scope", ScopeNames.Of(identity.Scope));
            delete.Parameters.AddWithValue("$key", identity.Key);
            return delete.ExecuteNonQuery();
        });
        var inMemory = await _memory.ReleaseAsync(identity);
        return deleted > 0 || inMemory;
    }

    public ValueTask<IReadOnlyList<Suspension>> ListSuspensionsAsync() => _memory.ListSuspensionsAsync();

    private List<Suspension> Load() => _database.Run(c =>
    {
        using var select = c.CreateCommand();
        select.CommandText = "SELECT scope, key, since, rule, reason, by FROM suspensions";
        using var reader = select.ExecuteReader();
        var result = new List<Suspension>();
        while (reader.Read())
        {
            if (!ScopeNames.TryParseScope(reader.GetString(0), out var scope))
            {
                continue;
            }

            result.Add(new Suspension(
                new Identity(scope, reader.GetString(1)),
                DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5)));
        }

        return result;
    });
}
