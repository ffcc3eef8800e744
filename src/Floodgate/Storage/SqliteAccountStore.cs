using System.Globalization;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// Suspensions that survive restarts and crashes. Decisions read a memory copy, so the hot path never touches the
/// disk; a new suspension holds from memory at once and is written by a background writer (many in one transaction),
/// which the suspending decision waits for up to <see cref="WriteWait"/>. A write that fails (a full disk) is tried again
/// every <see cref="RetryEvery"/> while the suspension stays enforced from memory, and <see cref="StoreHealth"/> says so.
/// </summary>
public sealed class SqliteAccountStore : IAccountStore
{
    /// <summary>How long a suspending decision waits for its suspension to be on disk before it answers anyway.</summary>
    public static readonly TimeSpan WriteWait = TimeSpan.FromSeconds(1);

    /// <summary>How often writes that failed are tried again.</summary>
    public static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(2);

    private readonly FloodgateDatabase _database;
    private readonly StoreHealth? _health;
    private readonly MemoryAccountStore _memory = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Identity, Unsaved> _unsaved = new();
    private readonly System.Threading.Channels.Channel<bool> _wake = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });

    public SqliteAccountStore(FloodgateDatabase database, StoreHealth? health = null)
    {
        _database = database;
        _health = health;
        foreach (var suspension in Load())
        {
            _memory.SuspendAsync(suspension).AsTask().GetAwaiter().GetResult();
        }

        _ = Task.Run(WriteAsync);
    }

    /// <summary>Suspensions in force that are not yet on disk.</summary>
    public int UnsavedCount => _unsaved.Count;

    public ValueTask<Suspension?> FindSuspensionAsync(IdentityKeys keys) => _memory.FindSuspensionAsync(keys);

    public async ValueTask<bool> SuspendAsync(Suspension suspension)
    {
        if (!await _memory.SuspendAsync(suspension))
        {
            return false;
        }

        var unsaved = new Unsaved(suspension);
        _unsaved[suspension.Identity] = unsaved;
        _wake.Writer.TryWrite(true);

        // Durable before the answer that reports it when the disk allows; enforced from memory either way.
        await Task.WhenAny(unsaved.Saved.Task, Task.Delay(WriteWait));
        return true;
    }

    // Writes what is unsaved, all in one transaction; on failure, again every RetryEvery until it succeeds.
    private async Task WriteAsync()
    {
        while (true)
        {
            if (_unsaved.IsEmpty)
            {
                await _wake.Reader.ReadAsync();
            }

            var batch = _unsaved.Values.ToList();
            try
            {
                _database.InTransaction((c, t) =>
                {
                    using var insert = c.CreateCommand();
                    insert.Transaction = t;
                    insert.CommandText = """
                        INSERT OR REPLACE INTO suspensions (scope, key, since, rule, reason, by, release_at)
                        VALUES ($scope, $key, $since, $rule, $reason, $by, NULL)
                        """;
                    foreach (var unsaved in batch)
                    {
                        // Under the database's lock, as a release is: one released meanwhile is not written back.
                        if (!_memory.IsSuspended(unsaved.Suspension.Identity))
                        {
                            continue;
                        }

                        var suspension = unsaved.Suspension;
                        insert.Parameters.Clear();
                        insert.Parameters.AddWithValue("$scope", ScopeNames.Of(suspension.Identity.Scope));
                        insert.Parameters.AddWithValue("$key", suspension.Identity.Key);
                        insert.Parameters.AddWithValue("$since", suspension.Since.ToString("O", CultureInfo.InvariantCulture));
                        insert.Parameters.AddWithValue("$rule", (object?)suspension.Rule ?? DBNull.Value);
                        insert.Parameters.AddWithValue("$reason", suspension.Reason);
                        insert.Parameters.AddWithValue("$by", suspension.By);
                        insert.ExecuteNonQuery();
                    }
                });
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                _health?.Failed("suspensions", e);
                await Task.Delay(RetryEvery);
                continue;
            }

            foreach (var unsaved in batch)
            {
                _unsaved.TryRemove(new KeyValuePair<Identity, Unsaved>(unsaved.Suspension.Identity, unsaved));
                unsaved.Saved.TrySetResult();
            }

            _health?.Succeeded("suspensions");
        }
    }

    public ValueTask<bool> ReleaseAsync(Identity identity)
    {
        var inMemory = _memory.IsSuspended(identity);
        var deleted = _database.Run(c =>
        {
            // Out of memory under the database's lock, so the writer cannot write it back after the delete.
            _memory.ReleaseAsync(identity).AsTask().GetAwaiter().GetResult();
            using var delete = c.CreateCommand();
            delete.CommandText = "DELETE FROM suspensions WHERE scope = $scope AND key = $key";
            delete.Parameters.AddWithValue("$scope", ScopeNames.Of(identity.Scope));
            delete.Parameters.AddWithValue("$key", identity.Key);
            return delete.ExecuteNonQuery();
        });
        return ValueTask.FromResult(deleted > 0 || inMemory);
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

    private sealed class Unsaved(Suspension suspension)
    {
        public Suspension Suspension { get; } = suspension;

        public TaskCompletionSource Saved { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
