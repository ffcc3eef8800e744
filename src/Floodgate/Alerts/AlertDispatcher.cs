using System.Collections.Concurrent;
using System.Threading.Channels;
using Floodgate.Engine;

namespace Floodgate.Alerts;

/// <summary>
/// Announces incidents on every configured channel: once per incident however often it is reported, reminders while
/// it stays open, each channel retried on its own with exponential backoff. Callers never wait: alerts go through a
/// bounded queue, and whatever would not fit (the queue, a channel's deliveries in flight) is dropped and counted.
/// </summary>
public sealed partial class AlertDispatcher : IIncidentAlerts, IDisposable
{
    /// <summary>Alerts waiting to be handed to the channels; beyond this they are dropped.</summary>
    public const int QueueCapacity = 1024;

    /// <summary>Deliveries (first attempt or retries) one channel may have under way; beyond this new alerts skip it.</summary>
    public const int MaxInFlightPerChannel = 64;

    /// <summary>Closed incident ids remembered so that a late report of one does not alert again.</summary>
    public const int RememberedClosed = 10_000;

    /// <summary>A system alert with the same subject is sent at most once in this period.</summary>
    public static readonly TimeSpan SystemQuietPeriod = TimeSpan.FromMinutes(15);

    private const int RememberedSystemSubjects = 256;
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(1);

    private readonly AlertOptions _options;
    private readonly IReadOnlyList<IAlertChannel> _channels;
    private readonly TimeProvider _time;
    private readonly ILogger<AlertDispatcher> _logger;
    private readonly IReadOnlyList<string> _secrets;
    private readonly Channel<PendingAlert> _queue = Channel.CreateBounded<PendingAlert>(new BoundedChannelOptions(QueueCapacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private readonly ConcurrentDictionary<long, OpenIncident> _open = new();
    private readonly HashSet<long> _closed = [];
    private readonly Queue<long> _closedOrder = new();
    private readonly Dictionary<string, DateTimeOffset> _systemSent = new(StringComparer.Ordinal);
    private readonly int[] _inFlight;
    private readonly ConcurrentDictionary<Task, bool> _deliveries = new();
    private long _dropped;

    /// <summary>Creates a dispatcher over the given channels (see <see cref="AlertChannels.From"/>).</summary>
    public AlertDispatcher(AlertOptions options, IEnumerable<IAlertChannel> channels, TimeProvider time, ILogger<AlertDispatcher> logger)
    {
        _options = options;
        _channels = [.. channels];
        _time = time;
        _logger = logger;
        _secrets = options.Secrets();
        _inFlight = new int[_channels.Count];
    }

    /// <summary>Raised on a pool thread after an alert reached one channel, for the incident's timeline.</summary>
    public event Action<AlertDelivered>? Delivered;

    /// <summary>Raised on each failed attempt to send an alert (metrics count them).</summary>
    public event Action<AlertFailed>? Failed;

    /// <summary>Alerts (or deliveries to one channel) dropped because the queue or the channel was full.</summary>
    public long DroppedAlerts => Interlocked.Read(ref _dropped);

    /// <summary>Incidents currently tracked as open (each with its reminder timer when reminders are on).</summary>
    public int OpenIncidents => _open.Count;

    public IReadOnlyList<IAlertChannel> Channels => _channels;

    public void Opened(Incident incident)
    {
        ArgumentNullException.ThrowIfNull(incident);
        if (_channels.Count == 0)
        {
            return;
        }

        // The hot case: the incident is known and every held message reports it again.
        if (_open.TryGetValue(incident.Id, out var known))
        {
            known.Latest = incident;
            return;
        }

        OpenIncident tracked;
        lock (_closed)
        {
            if (!incident.IsOpen || _closed.Contains(incident.Id) || _open.ContainsKey(incident.Id))
            {
                return;
            }

            tracked = new OpenIncident(incident);
            _open[incident.Id] = tracked;
        }

        try
        {
            // After a restart the store hands back incidents whose alert already went out: remind, do not re-announce.
            if (!incident.Timeline.Any(e => e.Kind == "alerted"))
            {
                Enqueue(new PendingAlert(AlertEvent.Suspended, incident.Snapshot(), null, null, _time.GetUtcNow()));
            }

            if (_options.Reminder > TimeSpan.Zero)
            {
                lock (tracked)
                {
                    if (!tracked.IsClosed)
                    {
                        tracked.Reminder = _time.CreateTimer(state => Remind((OpenIncident)state!), tracked, _options.Reminder, _options.Reminder);
                    }
                }
            }
        }
        catch (Exception e)
        {
            // The caller is on the decision path: a failure here is logged, never thrown at it.
            LogComposeFailed(incident.Id, e.GetType().Name, Redact(e.Message));
        }
    }

    public void Observed(Incident incident)
    {
        ArgumentNullException.ThrowIfNull(incident);
        if (_channels.Count == 0)
        {
            return;
        }

        // The incident book sends each observe-only incident here once; it is closed from the start, so no reminders.
        try
        {
            Enqueue(new PendingAlert(AlertEvent.Observed, incident.Snapshot(), null, null, _time.GetUtcNow()));
        }
        catch (Exception e)
        {
            LogComposeFailed(incident.Id, e.GetType().Name, Redact(e.Message));
        }
    }

    public void Closed(Incident incident)
    {
        ArgumentNullException.ThrowIfNull(incident);
        OpenIncident? tracked;
        lock (_closed)
        {
            if (_closed.Add(incident.Id))
            {
                _closedOrder.Enqueue(incident.Id);
                if (_closedOrder.Count > RememberedClosed)
                {
                    _closed.Remove(_closedOrder.Dequeue());
                }
            }

            _open.TryRemove(incident.Id, out tracked);
        }

        if (tracked is not null)
        {
            lock (tracked)
            {
                tracked.IsClosed = true;
                tracked.Reminder?.Dispose();
                tracked.Reminder = null;
            }
        }
    }

    /// <summary>Sends a limit's warning (the caller sends each once per window); never waits.</summary>
    public void Warn(string subject, string text)
    {
        if (_channels.Count > 0)
        {
            Enqueue(new PendingAlert(AlertEvent.Warning, null, subject, text, _time.GetUtcNow()));
        }
    }

    /// <summary>Announces a problem of Floodgate itself; the same subject is sent at most once per <see cref="SystemQuietPeriod"/>.</summary>
    public void Raise(string subject, string text)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(text);
        if (_channels.Count == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        lock (_systemSent)
        {
            if (_systemSent.TryGetValue(subject, out var last) && now - last < SystemQuietPeriod)
            {
                return;
            }

            if (_systemSent.Count >= RememberedSystemSubjects)
            {
                foreach (var stale in _systemSent.Where(s => now - s.Value >= SystemQuietPeriod).Select(s => s.Key).ToList())
                {
                    _systemSent.Remove(stale);
                }

                if (_systemSent.Count >= RememberedSystemSubjects)
                {
                    Drop("system", subject);
                    return;
                }
            }

            _systemSent[subject] = now;
        }

        Enqueue(new PendingAlert(AlertEvent.System, null, subject, text, now));
    }

    /// <summary>Hands queued alerts to the channels until <paramref name="stoppingToken"/> fires, then waits for deliveries to stop.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var pending in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                // Composed here, not by the caller: Opened stays a copy and a queue write on the decision path.
                Alert alert;
                try
                {
                    alert = pending.Incident is { } incident
                        ? Alert.FromCopy(pending.Event, incident, pending.At, _options.DashboardUrl)
                        : Alert.ForSystem(pending.Subject!, pending.Text!, pending.At, _options.DashboardUrl, pending.Event);
                }
                catch (Exception e)
                {
                    LogComposeFailed(pending.Incident?.Id, e.GetType().Name, Redact(e.Message));
                    continue;
                }

                for (var i = 0; i < _channels.Count; i++)
                {
                    Start(i, alert, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(_deliveries.Keys);
    }

    public void Dispose()
    {
        foreach (var tracked in _open.Values)
        {
            lock (tracked)
            {
                tracked.IsClosed = true;
                tracked.Reminder?.Dispose();
            }
        }

        _open.Clear();
        foreach (var channel in _channels.OfType<IDisposable>())
        {
            channel.Dispose();
        }
    }

    private void Remind(OpenIncident tracked)
    {
        try
        {
            var latest = tracked.Latest;
            if (!tracked.IsClosed && latest.IsOpen)
            {
                Enqueue(new PendingAlert(AlertEvent.Reminder, latest.Snapshot(), null, null, _time.GetUtcNow()));
            }
        }
        catch (Exception e)
        {
            // A timer callback that throws would take the process down.
            LogComposeFailed(tracked.Latest.Id, e.GetType().Name, Redact(e.Message));
        }
    }

    private void Enqueue(PendingAlert pending)
    {
        if (!_queue.Writer.TryWrite(pending))
        {
            Drop(pending.Event.ToString().ToLowerInvariant(), pending.Incident is { } i ? $"incident #{i.Id} of {i.Identity}" : pending.Subject!);
        }
    }

    private void Drop(string kind, string subject)
    {
        var dropped = Interlocked.Increment(ref _dropped);
        LogDropped(kind, subject, dropped);
    }

    private void Start(int index, Alert alert, CancellationToken stoppingToken)
    {
        if (Interlocked.Increment(ref _inFlight[index]) > MaxInFlightPerChannel)
        {
            Interlocked.Decrement(ref _inFlight[index]);
            var dropped = Interlocked.Increment(ref _dropped);
            LogChannelFull(alert.EventName, alert.Subject, _channels[index].Name, MaxInFlightPerChannel, dropped);
            return;
        }

        // Task.Run: a channel's first synchronous steps (DNS, process start) must not hold up the other channels.
        var delivery = Task.Run(() => DeliverAsync(index, alert, stoppingToken), CancellationToken.None);
        _deliveries[delivery] = true;
        delivery.ContinueWith(static (t, state) => ((ConcurrentDictionary<Task, bool>)state!).TryRemove(t, out _), _deliveries,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task DeliverAsync(int index, Alert alert, CancellationToken stoppingToken)
    {
        var channel = _channels[index];
        var attempts = Math.Max(1, _options.Retry.Attempts);
        var delay = _options.Retry.FirstDelay;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                string error;
                try
                {
                    await channel.SendAsync(alert, stoppingToken);
                    LogSent(alert.EventName, alert.Subject, channel.Name, attempt);
                    Announce(new AlertDelivered(alert.Incident?.Id, alert.Event, channel.Name, _time.GetUtcNow()));
                    return;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (AlertDeliveryException e)
                {
                    error = e.Message;
                }
                catch (Exception e)
                {
                    // Not a channel's own report: name the type, since the message was not written for the log.
                    error = $"{e.GetType().Name}: {e.Message}";
                }

                error = Redact(error);
                Announce(new AlertFailed(alert.Incident?.Id, alert.Event, channel.Name, attempt >= attempts, _time.GetUtcNow()));
                if (attempt >= attempts)
                {
                    LogGaveUp(alert.EventName, alert.Subject, channel.Name, attempts, error);
                    return;
                }

                LogFailed(alert.EventName, alert.Subject, channel.Name, attempt, attempts, error, AlertOptions.FormatDuration(delay));
                await Task.Delay(delay, _time, stoppingToken);
                delay = delay * 2 > MaxRetryDelay ? MaxRetryDelay : delay * 2;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogAbandoned(alert.EventName, alert.Subject, channel.Name);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight[index]);
        }
    }

    private void Announce(AlertDelivered delivered) => Announce(Delivered, delivered);

    private void Announce(AlertFailed failed) => Announce(Failed, failed);

    private void Announce<T>(Action<T>? handlers, T happened)
    {
        try
        {
            handlers?.Invoke(happened);
        }
        catch (Exception e)
        {
            LogListenerFailed(e.GetType().Name, Redact(e.Message));
        }
    }

    // Defence in depth: a library's error text may quote what it was given (a URL, a login exchange).
    private string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, "***", StringComparison.Ordinal);
        }

        return text;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "alert {Event} sent via {Channel} (attempt {Attempt}): {Subject}")]
    private partial void LogSent(string @event, string subject, string channel, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "alert {Event} via {Channel} failed (attempt {Attempt} of {Attempts}): {Error}; trying again in {Delay}: {Subject}")]
    private partial void LogFailed(string @event, string subject, string channel, int attempt, int attempts, string error, string delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "alert {Event} via {Channel} failed {Attempts} times, giving up: {Error}: {Subject}")]
    private partial void LogGaveUp(string @event, string subject, string channel, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "alert {Event} via {Channel} abandoned at shutdown: {Subject}")]
    private partial void LogAbandoned(string @event, string subject, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "alert queue full: dropped alert {Event}: {Subject} ({Dropped} dropped so far)")]
    private partial void LogDropped(string @event, string subject, long dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Channel} already has {InFlight} alerts under way: dropped alert {Event} for it: {Subject} ({Dropped} dropped so far)")]
    private partial void LogChannelFull(string @event, string subject, string channel, int inFlight, long dropped);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not compose the alert for incident {IncidentId}: {ErrorType}: {Error}")]
    private partial void LogComposeFailed(long? incidentId, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "an AlertDispatcher.Delivered or Failed handler failed: {ErrorType}: {Error}")]
    private partial void LogListenerFailed(string errorType, string error);

    // What Opened, a reminder or Raise hands to the worker: a private copy of the incident, or a system subject and text.
    private sealed record PendingAlert(AlertEvent Event, Incident? Incident, string? Subject, string? Text, DateTimeOffset At);

    private sealed class OpenIncident(Incident latest)
    {
        private Incident _latest = latest;

        public Incident Latest
        {
            get => Volatile.Read(ref _latest);
            set => Volatile.Write(ref _latest, value);
        }

        public ITimer? Reminder { get; set; }

        public bool IsClosed { get; set; }
    }
}
