using Microsoft.Data.Sqlite;

namespace Floodgate.Storage;

/// <summary>
/// The embedded SQLite database (WAL) in the data directory: one connection, used under a lock, with the schema
/// brought up to date by numbered migrations when it opens (PRAGMA user_version records how far it is).
/// </summary>
public sealed class FloodgateDatabase : IDisposable
{
    public const string FileName = "floodgate.db";

    // Append only: a released Floodgate's database is migrated forward from whatever version it has.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE suspensions (
            scope      TEXT NOT NULL,
            key        TEXT NOT NULL,
            since      TEXT NOT NULL,
            rule       TEXT,
            reason     TEXT NOT NULL,
            by         TEXT NOT NULL,
            release_at TEXT,
            PRIMARY KEY (scope, key));
        CREATE TABLE counters (
            scope      TEXT NOT NULL,
            key        TEXT NOT NULL,
            rule       TEXT NOT NULL,
            slot_ticks INTEGER NOT NULL,
            window     BLOB NOT NULL,
            saved_at   INTEGER NOT NULL,
            PRIMARY KEY (scope, key, rule));
        CREATE TABLE audit (
            id     INTEGER PRIMARY KEY AUTOINCREMENT,
            at     TEXT NOT NULL,
            actor  TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT);
        """,
        """
        CREATE TABLE incidents (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            scope           TEXT NOT NULL,
            key             TEXT NOT NULL,
            rule            TEXT,
            reason          TEXT NOT NULL,
            opened_at       TEXT NOT NULL,
            auto_release_at TEXT,
            closed_at       TEXT,
            closed_by       TEXT,
            resolution      TEXT,
            evidence        TEXT NOT NULL,
            timeline        TEXT NOT NULL);
        CREATE INDEX incidents_open ON incidents (scope, key) WHERE closed_at IS NULL;
        CREATE TABLE exemptions (
            key        TEXT NOT NULL PRIMARY KEY,
            max        INTEGER,
            until      TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL);
        """,
        """
        CREATE TABLE overrides (
            key        TEXT NOT NULL,
            rule       TEXT NOT NULL,
            max        INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (key, rule));
        """,
        """
        CREATE TABLE held_mail (
            queue_id TEXT NOT NULL PRIMARY KEY,
            identity TEXT NOT NULL,
            reason   TEXT NOT NULL,
            held_at  TEXT NOT NULL,
            point    TEXT NOT NULL,
            sender   TEXT,
            state    TEXT NOT NULL);
        CREATE INDEX held_mail_held ON held_mail (identity, held_at) WHERE state = 'held';
        """,
        """
        ALTER TABLE counters ADD COLUMN lsn INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE alerts_delivered (
            incident_id  INTEGER NOT NULL,
            channel      TEXT NOT NULL,
            event        TEXT NOT NULL,
            delivered_at TEXT NOT NULL,
            PRIMARY KEY (incident_id, channel, event));
        """,
    ];

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();

    private FloodgateDatabase(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>The schema version after migrations.</summary>
    public int SchemaVersion => Run(c => Scalar<long>(c, "PRAGMA user_version")) is var v ? (int)v : 0;

    /// <summary>Opens (creating if needed) the database in <paramref name="dataDirectory"/> and migrates it.</summary>
    public static FloodgateDatabase Open(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = System.IO.Path.Combine(dataDirectory, FileName);

        // Account names and evidence are for the admin only; SQLite gives its -wal and -shm files the same mode.
        if (!File.Exists(path))
        {
            using var _ = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();

        // WAL with synchronous=NORMAL: a committed write survives the process being killed (kill -9); only a power
        // loss can take the last transactions.
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;");
        var database = new FloodgateDatabase(connection, path);
        database.Migrate();
        return database;
    }

    /// <summary>Runs <paramref name="work"/> with the connection, one caller at a time.</summary>
    public T Run<T>(Func<SqliteConnection, T> work)
    {
        lock (_lock)
        {
            return work(_connection);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction, one caller at a time; <paramref name="synced"/> makes the commit
    /// wait for the disk (synchronous=FULL), so it survives a power loss too.
    /// </summary>
    public void InTransaction(Action<SqliteConnection, SqliteTransaction> work, bool synced = false)
    {
        lock (_lock)
        {
            if (synced)
            {
                Execute(_connection, "PRAGMA synchronous=FULL");
            }

            try
            {
                using var transaction = _connection.BeginTransaction();
                work(_connection, transaction);
                transaction.Commit();
            }
            finally
            {
                if (synced)
                {
                    Execute(_connection, "PRAGMA synchronous=NORMAL");
                }
            }
        }
    }

    public void Dispose() => _connection.Dispose();

    internal static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)command.ExecuteScalar()!;
    }

    private void Migrate()
    {
        var version = (int)Run(c => Scalar<long>(c, "PRAGMA user_version"));
        if (version > Migrations.Length)
        {
            throw new InvalidOperationException(
                $"{Path} has schema version {version}, newer than this Floodgate knows ({Migrations.Length}); run the newer Floodgate or restore a backup.");
        }

        for (var v = version; v < Migrations.Length; v++)
        {
            var next = v + 1;
            InTransaction((c, t) =>
            {
                Execute(c, Migrations[next - 1], t);
                Execute(c, $"PRAGMA user_version = {next}", t);
            });
        }
    }
}
