using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Pipeline;
using Floodgate.Storage;
using Microsoft.Data.Sqlite;

namespace Floodgate.Quarantine;

/// <summary>
/// Postfix's hold queue as a place of the held-mail ledger: every message the policy service answered HOLD is
/// recorded (queue id, identity, reason, time) in SQLite, without a cap, and release feeds the recorded queue ids to
/// postsuper in batches. Records are written by a background loop every 50 ms, never on a connection's thread.
/// </summary>
public sealed partial class PostfixHeldMail : IHeldMail, IHeldMailRecorder, IAsyncDisposable
{
    /// <summary>How long after it was held a recorded message missing from the hold queue counts as gone (not still arriving).</summary>
    public static readonly TimeSpan GoneAfter = TimeSpan.FromHours(1);

    /// <summary>Queue ids handed to one postsuper run.</summary>
    public const int BatchSize = 10_000;

    private readonly FloodgateDatabase _database;
    private readonly ReleaseOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PostfixHeldMail> _logger;
    private readonly ConcurrentQueue<Record> _pending = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writer;
    private int _disposed;

    public PostfixHeldMail(FloodgateDatabase database, ReleaseOptions options, TimeProvider time, ILogger<PostfixHeldMail> logger)
    {
        _time = time;
        _database = database;
        _options = options;
        _logger = logger;
        _writer = Task.Run(WriteLoopAsync);
    }

    public string Place => "postfix hold queue";

    /// <inheritdoc/>
    public void Held(in Submission submission, in Decision decision, string enforcementPoint)
    {
        var identity = (decision.Suspension?.Identity ?? decision.Identity)?.ToString() ?? "-";
        _pending.Enqueue(new Record(submission.QueueId!, identity, decision.Reason, submission.Time, enforcementPoint, submission.Sender));
    }

    /// <summary>Writes every record taken so far.</summary>
    public async Task FlushAsync()
    {
        await _writeGate.WaitAsync();
        try
        {
            var batch = new List<Record>();
            while (_pending.TryDequeue(out var taken))
            {
                batch.Add(taken);
            }

            if (batch.Count == 0)
            {
                return;
            }

            try
            {
                Write(batch);
            }
            catch
            {
                // Kept for the next pass (a full disk frees up; the records are small).
                foreach (var record in batch)
                {
                    _pending.Enqueue(record);
                }

                throw;
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void Write(List<Record> batch) =>
            _database.InTransaction((c, t) =>
            {
                using var insert = c.CreateCommand();
                insert.Transaction = t;
                insert.CommandText = """
                    INSERT INTO held_mail (queue_id, identity, reason, held_at, point, sender, state)
                    VALUES ($id, $identity, $reason, $at, $point, $sender, 'held')
                    ON CONFLICT (queue_id) DO UPDATE SET identity = $identity, reason = $reason, held_at = $at, point = $point,
                        sender = $sender, state = 'held'
                    """;
                var id = insert.Parameters.Add("$id", SqliteType.Text);
                var identity = insert.Parameters.Add("$identity", SqliteType.Text);
                var reason = insert.Parameters.Add("$reason", SqliteType.Text);
                var at = insert.Parameters.Add("$at", SqliteType.Text);
                var point = insert.Parameters.Add("$point", SqliteType.Text);
                var sender = insert.Parameters.Add("$sender", SqliteType.Text);
                foreach (var record in batch)
                {
                    id.Value = record.QueueId;
                    identity.Value = record.Identity;
                    reason.Value = record.Reason;
                    at.Value = record.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
                    point.Value = record.Point;
                    sender.Value = (object?)record.Sender ?? DBNull.Value;
                    insert.ExecuteNonQuery();
                }
            });

    public async Task<IReadOnlyList<HeldMailEntry>> ListAsync(Identity? identity, int limit)
    {
        await FlushAsync();
        return _database.Run(c =>
        {
            using var query = c.CreateCommand();
            query.CommandText = "SELECT queue_id, identity, reason, held_at, point, sender FROM held_mail WHERE state = 'held'"
                + (identity is null ? "" : " AND identity = $identity") + " ORDER BY held_at LIMIT $limit";
            if (identity is { } i)
            {
                query.Parameters.AddWithValue("$identity", i.ToString());
            }

            query.Parameters.AddWithValue("$limit", limit);
            using var reader = query.ExecuteReader();
            var entries = new List<HeldMailEntry>();
            while (reader.Read())
            {
                entries.Add(new HeldMailEntry(Place, reader.GetString(0), reader.GetString(1), reader.GetString(2),
                    DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
            }

            return (IReadOnlyList<HeldMailEntry>)entries;
        });
    }

    public async Task<long> CountAsync(Identity identity)
    {
        await FlushAsync();
        return _database.Run(c =>
        {
            using var query = c.CreateCommand();
            query.CommandText = "SELECT count(*) FROM held_mail WHERE state = 'held' AND identity = $identity";
            query.Parameters.AddWithValue("$identity", identity.ToString());
            return (long)query.ExecuteScalar()!;
        });
    }

    /// <summary>
    /// Releases (postsuper -H, then postqueue -f) or purges (postsuper -d) every recorded message of the identity that
    /// is still in the hold queue, in batches; recorded messages no longer there are reported as gone, and messages
    /// postsuper could not act on as left, with its words.
    /// </summary>
    public async Task<HeldMailRelease> ReleaseAsync(Identity identity, ReleaseMode mode, string by)
    {
        if (mode == ReleaseMode.Keep)
        {
            return new HeldMailRelease(Place, 0, 0, 0, null);
        }

        await FlushAsync();
        var recorded = RecordedIds(identity);
        if (recorded.Count == 0)
        {
            return new HeldMailRelease(Place, 0, 0, 0, null);
        }


        var (inHold, scanProblem) = await HoldQueueIdsAsync();
        if (inHold is null)
        {
            return new HeldMailRelease(Place, 0, recorded.Count, 0, scanProblem);
        }

        // A message answered HOLD moments ago may still be arriving (incoming/, not yet in the hold queue): only a record
        // older than GoneAfter that the hold queue does not have is taken as released or deleted by hand.
        var cutoff = _time.GetUtcNow() - GoneAfter;
        var present = recorded.Where(r => inHold.Contains(r.Id)).Select(r => r.Id).ToList();
        var gone = recorded.Where(r => !inHold.Contains(r.Id) && r.HeldAt < cutoff).Select(r => r.Id).ToList();
        var arriving = recorded.Count(r => !inHold.Contains(r.Id) && r.HeldAt >= cutoff);
        var acted = 0;
        string? problem = null;
        for (var i = 0; i < present.Count && problem is null; i += BatchSize)
        {
            var batch = present.GetRange(i, Math.Min(BatchSize, present.Count - i));
            var (count, error) = await PostsuperAsync(mode == ReleaseMode.Deliver ? "-H" : "-d", batch);
            acted += count;
            problem = error;
        }

        // postsuper -H moves the mail to the deferred queue; a queue run sends it now rather than in minutes.
        if (mode == ReleaseMode.Deliver && acted > 0)
        {
            problem ??= (await RunAsync(_options.Postqueue, ["-f"], null)).Problem;
        }

        var left = present;
        if (acted < present.Count)
        {
            var (after, _) = await HoldQueueIdsAsync();
            left = after is null ? present : [.. present.Where(after.Contains)];
        }
        else
        {
            left = [];
        }

        var leftSet = left.ToHashSet(StringComparer.Ordinal);
        MarkDone(present.Where(id => !leftSet.Contains(id)), mode == ReleaseMode.Deliver ? "released" : "purged");
        MarkDone(gone, "gone");
        if (left.Count > 0)
        {
            problem ??= $"postsuper left {left.Count} of them in the hold queue";
        }

        if (arriving > 0)
        {
            problem ??= $"{arriving} were held moments ago and are not in the hold queue yet; release again to act on them";
        }

        LogReleased(identity.ToString(), by, acted, gone.Count, left.Count + arriving);
        return new HeldMailRelease(Place, acted, left.Count + arriving, gone.Count, problem);
    }

    /// <summary>Messages in the hold queue that Floodgate never recorded (held by hand, or before an upgrade); left alone.</summary>
    public async Task<(IReadOnlyList<string> QueueIds, string? Problem)> UnrecordedAsync()
    {
        await FlushAsync();
        var (inHold, problem) = await HoldQueueIdsAsync();
        if (inHold is null)
        {
            return ([], problem);
        }

        var known = _database.Run(c =>
        {
            using var query = c.CreateCommand();
            query.CommandText = "SELECT queue_id FROM held_mail WHERE state = 'held'";
            using var reader = query.ExecuteReader();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        });
        return ([.. inHold.Where(id => !known.Contains(id)).Order(StringComparer.Ordinal)], null);
    }

    /// <summary>
    /// Releases or purges the mail in the hold queue that Floodgate never recorded, when an admin asks for it by name
    /// (it is never touched by an account's release); returns how many postsuper acted on.
    /// </summary>
    public async Task<HeldMailRelease> ReleaseUnrecordedAsync(ReleaseMode mode, string by)
    {
        var (ids, problem) = await UnrecordedAsync();
        if (problem is not null || ids.Count == 0 || mode == ReleaseMode.Keep)
        {
            return new HeldMailRelease(Place, 0, ids.Count, 0, problem);
        }

        var acted = 0;
        var list = ids.ToList();
        for (var i = 0; i < list.Count && problem is null; i += BatchSize)
        {
            var (count, error) = await PostsuperAsync(mode == ReleaseMode.Deliver ? "-H" : "-d", list.GetRange(i, Math.Min(BatchSize, list.Count - i)));
            acted += count;
            problem = error;
        }

        if (mode == ReleaseMode.Deliver && acted > 0)
        {
            problem ??= (await RunAsync(_options.Postqueue, ["-f"], null)).Problem;
        }

        LogReleased("(never recorded)", by, acted, 0, ids.Count - acted);
        return new HeldMailRelease(Place, acted, ids.Count - acted, 0, problem);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        await _writer;
        _stop.Dispose();
    }

    private List<(string Id, DateTimeOffset HeldAt)> RecordedIds(Identity identity) => _database.Run(c =>
    {
        using var query = c.CreateCommand();
        query.CommandText = "SELECT queue_id, held_at FROM held_mail WHERE state = 'held' AND identity = $identity ORDER BY held_at";
        query.Parameters.AddWithValue("$identity", identity.ToString());
        using var reader = query.ExecuteReader();
        var ids = new List<(string, DateTimeOffset)>();
        while (reader.Read())
        {
            ids.Add((reader.GetString(0), DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture)));
        }

        return ids;
    });

    private void MarkDone(IEnumerable<string> ids, string state) => _database.InTransaction((c, t) =>
    {
        using var update = c.CreateCommand();
        update.Transaction = t;
        update.CommandText = "UPDATE held_mail SET state = $state WHERE queue_id = $id";
        update.Parameters.AddWithValue("$state", state);
        var id = update.Parameters.Add("$id", SqliteType.Text);
        foreach (var queueId in ids)
        {
            id.Value = queueId;
            update.ExecuteNonQuery();
        }
    });

    // postqueue -j prints one JSON object per queued message (Postfix 3.1 and later).
    private async Task<(HashSet<string>? Ids, string? Problem)> HoldQueueIdsAsync()
    {
        var (output, problem) = await RunAsync(_options.Postqueue, ["-j"], null);
        if (problem is not null)
        {
            return (null, problem);
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.TryGetProperty("queue_name", out var queue) && queue.GetString() == "hold"
                    && json.RootElement.TryGetProperty("queue_id", out var id) && id.GetString() is { } queueId)
                {
                    ids.Add(queueId);
                }
            }
            catch (JsonException)
            {
                // A line postqueue did not write as JSON (a warning) names no message.
            }
        }

        return (ids, null);
    }

    private async Task<(int Count, string? Problem)> PostsuperAsync(string action, List<string> queueIds)
    {
        var (output, problem) = await RunAsync(_options.Postsuper, [action, "-"], string.Join('\n', queueIds) + "\n");

        // postsuper reports "postsuper: Released from hold: N messages" or "postsuper: Deleted: N messages" on stderr.
        var count = 0;
        foreach (var line in output.Split('\n'))
        {
            var colon = line.LastIndexOf(':');
            if ((line.Contains("Released from hold:", StringComparison.Ordinal) || line.Contains("Deleted:", StringComparison.Ordinal))
                && int.TryParse(line[(colon + 1)..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                count += n;
            }
        }

        return (count, problem);
    }

    // Runs a Postfix command with the configured -c directory; returns its stdout and stderr together, or what went wrong.
    private async Task<(string Output, string? Problem)> RunAsync(string program, string[] arguments, string? input)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (_options.PostfixConfigDirectory is { } dir)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(dir);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input);
            }

            process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            var text = await output + await error;
            return process.ExitCode == 0
                ? (text, null)
                : (text, $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited {process.ExitCode}: {(await error).Trim()}");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or OperationCanceledException or IOException)
        {
            return ("", $"{Path.GetFileName(program)} {string.Join(' ', arguments)} failed: {e.Message}");
        }
    }

    private async Task WriteLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(50, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            try
            {
                await FlushAsync();
            }
            catch (Exception e) when (e is SqliteException or InvalidOperationException or ObjectDisposedException)
            {
                // The disk may be full: records wait in memory and are written on a later pass.
                LogWriteFailed(e);
                await Task.Delay(1000);
            }
        }
    }

    private sealed record Record(string QueueId, string Identity, string Reason, DateTimeOffset At, string Point, string? Sender);

    [LoggerMessage(Level = LogLevel.Information, Message = "postfix hold queue: {Identity} released by {By}: {Acted} acted on, {Gone} no longer held, {Left} left")]
    private partial void LogReleased(string identity, string by, int acted, int gone, int left);

    [LoggerMessage(Level = LogLevel.Error, Message = "postfix hold queue: recording held messages failed; retrying")]
    private partial void LogWriteFailed(Exception e);
}
