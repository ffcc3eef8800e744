using System.Globalization;
using System.Text.Json;
using Floodgate.Engine;
using Microsoft.Data.Sqlite;

namespace Floodgate.Storage;

/// <summary>Incidents in SQLite: the fixed facts in columns, evidence and timeline as JSON.</summary>
public sealed class SqliteIncidentStore(FloodgateDatabase database) : IIncidentStore, IAuditLog
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task AddAsync(Incident incident)
    {
        incident.Id = database.Run(c =>
        {
            using var insert = c.CreateCommand();
            insert.CommandText = """
                INSERT INTO incidents (scope, key, rule, reason, opened_at, auto_release_at, closed_at, closed_by, resolution, evidence, timeline)
                VALUES ($scope, $key, $rule, $reason, $opened, $auto, $closed, $by, $resolution, $evidence, $timeline);
                SELECT last_insert_rowid();
                """;
            Bind(insert, incident);
            return (long)insert.ExecuteScalar()!;
        });
        return Task.CompletedTask;
    }

    public Task SaveAsync(Incident incident)
    {
        database.Run(c =>
        {
            using var update = c.CreateCommand();
            update.CommandText = """
                UPDATE incidents SET auto_release_at = $auto, closed_at = $closed, closed_by = $by, resolution = $resolution,
                    evidence = $evidence, timeline = $timeline
                WHERE id = $id
                """;
            Bind(update, incident);
            update.Parameters.AddWithValue("$id", incident.Id);
            return update.ExecuteNonQuery();
        });
        return Task.CompletedTask;
    }

    public Task<Incident?> GetAsync(long id) =>
        Task.FromResult(Query("WHERE id = $id", c => c.Parameters.AddWithValue("$id", id)).FirstOrDefault());

    public Task<IReadOnlyList<Incident>> ListAsync(bool openOnly, int limit) =>
        Task.FromResult<IReadOnlyList<Incident>>(Query(
            (openOnly ? "WHERE closed_at IS NULL " : "") + "ORDER BY id DESC LIMIT $limit",
            c => c.Parameters.AddWithValue("$limit", limit)));

    public Task AppendAsync(AuditEntry entry)
    {
        database.Run(c =>
        {
            using var insert = c.CreateCommand();
            insert.CommandText = "INSERT INTO audit (at, actor, action, target, detail) VALUES ($at, $actor, $action, $target, $detail)";
            insert.Parameters.AddWithValue("$at", entry.At.ToString("O", CultureInfo.InvariantCulture));
            insert.Parameters.AddWithValue("$actor", entry.Actor);
            insert.Parameters.AddWithValue("$action", entry.Action);
            insert.Parameters.AddWithValue("$target", entry.Target);
            insert.Parameters.AddWithValue("$detail", (object?)entry.Detail ?? DBNull.Value);
            return insert.ExecuteNonQuery();
        });
        return Task.CompletedTask;
    }

    Task<IReadOnlyList<AuditEntry>> IAuditLog.ListAsync(int limit) => Task.FromResult<IReadOnlyList<AuditEntry>>(database.Run(c =>
    {
        using var select = c.CreateCommand();
        select.CommandText = "SELECT at, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT $limit";
        select.Parameters.AddWithValue("$limit", limit);
        using var reader = select.ExecuteReader();
        var entries = new List<AuditEntry>();
        while (reader.Read())
        {
            entries.Add(new AuditEntry(DateTimeOffset.Parse(reader.GetString(0), CultureInfo.InvariantCulture), reader.GetString(1),
                reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return entries;
    }));

    private static void Bind(SqliteCommand command, Incident incident)
    {
        command.Parameters.AddWithValue("$scope", ScopeNames.Of(incident.Identity.Scope));
        command.Parameters.AddWithValue("$key", incident.Identity.Key);
        command.Parameters.AddWithValue("$rule", (object?)incident.Rule ?? DBNull.Value);
        command.Parameters.AddWithValue("$reason", incident.Reason);
        command.Parameters.AddWithValue("$opened", incident.OpenedAt.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$auto", (object?)incident.AutoReleaseAt?.ToString("O", CultureInfo.InvariantCulture) ?? DBNull.Value);
        command.Parameters.AddWithValue("$closed", (object?)incident.ClosedAt?.ToString("O", CultureInfo.InvariantCulture) ?? DBNull.Value);
        command.Parameters.AddWithValue("$by", (object?)incident.ClosedBy ?? DBNull.Value);
        command.Parameters.AddWithValue("$resolution", (object?)incident.Resolution ?? DBNull.Value);
        lock (incident)
        {
            command.Parameters.AddWithValue("$evidence", JsonSerializer.Serialize(incident.Evidence, Json));
            command.Parameters.AddWithValue("$timeline", JsonSerializer.Serialize(incident.Timeline, Json));
        }
    }

    private List<Incident> Query(string where, Action<SqliteCommand> bind) => database.Run(c =>
    {
        using var select = c.CreateCommand();
        select.CommandText = "SELECT id, scope, key, rule, reason, opened_at, auto_release_at, closed_at, closed_by, resolution, evidence, timeline FROM incidents " + where;
        bind(select);
        using var reader = select.ExecuteReader();
        var incidents = new List<Incident>();
        while (reader.Read())
        {
            if (!ScopeNames.TryParseScope(reader.GetString(1), out var scope))
            {
                continue;
            }

            incidents.Add(new Incident
            {
                Id = reader.GetInt64(0),
                Identity = new Identity(scope, reader.GetString(2)),
                Rule = reader.IsDBNull(3) ? null : reader.GetString(3),
                Reason = reader.GetString(4),
                OpenedAt = Time(reader, 5)!.Value,
                AutoReleaseAt = Time(reader, 6),
                ClosedAt = Time(reader, 7),
                ClosedBy = reader.IsDBNull(8) ? null : reader.GetString(8),
                Resolution = reader.IsDBNull(9) ? null : reader.GetString(9),
                Evidence = JsonSerializer.Deserialize<IncidentEvidence>(reader.GetString(10), Json) ?? new(),
                Timeline = JsonSerializer.Deserialize<List<IncidentEvent>>(reader.GetString(11), Json) ?? [],
            });
        }

        return incidents;
    });

    private static DateTimeOffset? Time(SqliteDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : DateTimeOffset.Parse(reader.GetString(column), CultureInfo.InvariantCulture);
}
