using Floodgate.Alerts;

namespace Floodgate.Storage;

/// <summary>
/// Whether the embedded database takes writes. While it does not (a full disk, a read-only file system), suspensions
/// and incidents are kept in memory and enforced from there, written again every few seconds until the disk allows;
/// the admin gets one "store degraded" alert, the metric floodgate_store_degraded reads 1, and one log line says what.
/// </summary>
public sealed partial class StoreHealth(TimeProvider time)
{
    private readonly Lock _lock = new();
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private AlertDispatcher? _alerts;
    private string? _failing;

    // Every part whose writes fail now: the spell ends when the last of them writes again.
    private readonly HashSet<string> _failingParts = new(StringComparer.Ordinal);
    private DateTimeOffset _since;

    /// <summary>True while a write of state that enforcement depends on has failed and not yet succeeded again.</summary>
    public bool IsDegraded => Volatile.Read(ref _failing) is not null;

    /// <summary>Where the log lines and the "store degraded" and "store recovered" alerts go (set once the host is built).</summary>
    public void Attach(ILogger logger, AlertDispatcher alerts)
    {
        _logger = logger;
        _alerts = alerts;
    }

    /// <summary>Notes a failed write of <paramref name="what"/>; the first failure of a spell alerts and logs.</summary>
    public void Failed(string what, Exception error)
    {
        lock (_lock)
        {
            var first = _failingParts.Count == 0;
            if (!_failingParts.Add(what) || !first)
            {
                return;
            }

            _failing = what;
            _since = time.GetUtcNow();
        }

        LogDegraded(what, error.Message);
        _alerts?.Raise("store degraded",
            $"Floodgate cannot write {what} to its database ({error.Message}). Suspensions stay enforced from memory and are written "
            + "again every few seconds until the disk allows; a restart before then would forget those not yet written. Free disk space "
            + "in Floodgate's data directory.");
    }

    /// <summary>
    /// Notes that writes of <paramref name="what"/> succeed again; once every part that failed has (so what was kept in
    /// memory is saved), ends the spell with a log line and an alert.
    /// </summary>
    public void Succeeded(string what)
    {
        if (Volatile.Read(ref _failing) is null)
        {
            return;
        }

        string first;
        DateTimeOffset since;
        lock (_lock)
        {
            if (!_failingParts.Remove(what) || _failingParts.Count > 0 || _failing is null)
            {
                return;
            }

            (first, since) = (_failing, _since);
            _failing = null;
        }

        var took = time.GetUtcNow() - since;
        LogRecovered(first, took.TotalSeconds);
        _alerts?.Raise("store recovered", $"Floodgate writes to its database again after {took.TotalSeconds:F0} s; everything kept in memory meanwhile is saved.");
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "store degraded: cannot write {What} to the database ({Error}); enforcing from memory and retrying")]
    private partial void LogDegraded(string what, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "store recovered: writes succeed again ({What} had failed for {Seconds:F0} s)")]
    private partial void LogRecovered(string what, double seconds);
}
