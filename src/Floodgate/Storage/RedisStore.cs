using System.Diagnostics.Metrics;
using Floodgate.Alerts;
using Floodgate.Configuration;
using StackExchange.Redis;

namespace Floodgate.Storage;

/// <summary>
/// The one connection to the Redis a cluster of nodes shares: its keys and pub/sub channel, and whether it is
/// available (a circuit breaker: after a failure every call is skipped until a probe finds Redis again).
/// </summary>
public sealed partial class RedisStore : IAsyncDisposable
{
    /// <summary>The pub/sub channel's suffix after the key prefix: every change of shared state is announced there.</summary>
    public const string ChannelName = "events";

    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);

    private readonly ConnectionMultiplexer _connection;
    private readonly RedisChannel _channel;
    private readonly Meter _meter;
    private readonly Counter<long> _fallbackDecisions;
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _server;
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private AlertDispatcher? _alerts;
    private volatile bool _available;
    private const int TimeoutsInARow = 3;
    private int _probing;
    private int _timeouts;
    private bool _subscribed;

    private RedisStore(ConnectionMultiplexer connection, RedisOptions options, string server)
    {
        _connection = connection;
        Options = options;
        _server = server;
        Database = connection.GetDatabase();
        _channel = RedisChannel.Literal(options.KeyPrefix + ChannelName);

        // Instruments on the meter "Floodgate", which the metrics exporter subscribes to by name.
        _meter = new Meter("Floodgate");
        _meter.CreateObservableGauge("floodgate_store_available", () => _available ? 1 : 0, description: "1 while the shared Redis store answers, 0 while it is unavailable");
        _fallbackDecisions = _meter.CreateCounter<long>("floodgate_store_fallback_decisions", "{decision}",
            "Decisions made without the shared Redis store: with this node's own counters (fail open) or deferred (fail closed)");
    }

    public RedisOptions Options { get; }

    /// <summary>This store's instruments (a process may hold several nodes, as the tests do).</summary>
    internal Meter Meter => _meter;

    public IDatabase Database { get; }

    /// <summary>The Redis server itself, for commands that act on the whole keyspace (SCAN).</summary>
    public IServer Server => _connection.GetServers()[0];

    /// <summary>False from a failed call until a probe reaches Redis again; callers skip Redis meanwhile.</summary>
    public bool IsAvailable => _available;

    /// <summary>Raised (on a pool thread) with the family of shared state another node, or this one, changed: "suspensions", "exemptions", "incidents".</summary>
    public event Action<string>? Changed;

    /// <summary>Raised (on a pool thread) when Redis is reachable again after an outage: caches reload, since changes may have been missed.</summary>
    public event Action? Restored;

    /// <summary>Connects without waiting for Redis to be up: a node starts, and fails open or closed, while Redis is away.</summary>
    public static async Task<RedisStore> ConnectAsync(RedisOptions options)
    {
        var config = ConfigurationOptions.Parse(options.Connection);
        config.AbortOnConnectFail = false;
        // At start a busy machine may take a while to finish the handshake (a refused connection returns at once).
        config.ConnectTimeout = 5000;
        config.SyncTimeout = (int)options.Timeout.TotalMilliseconds;
        config.AsyncTimeout = (int)options.Timeout.TotalMilliseconds;

        // Fail fast instead of queueing while disconnected: a policy request must never wait out an outage.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy = new LinearRetry(500);
        config.ClientName ??= "floodgate";
        var server = string.Join(",", config.EndPoints.Select(e => e.ToString())) + (config.Ssl ? " (TLS)" : "");
        var connection = await ConnectionMultiplexer.ConnectAsync(config);

        // The first handshake may still be under way; give it a moment rather than start the node in its fail mode.
        for (var waited = 0; !connection.IsConnected && waited < 2000; waited += 20)
        {
            await Task.Delay(20);
        }

        var store = new RedisStore(connection, options, server);
        store._available = connection.IsConnected && await store.SubscribeAsync();
        return store;
    }

    /// <summary>The full key for a suffix: the configured prefix first.</summary>
    public RedisKey Key(string suffix) => Options.KeyPrefix + suffix;

    /// <summary>Where the store logs and raises its "store unavailable" alerts (set once the host is built).</summary>
    public void Attach(ILogger logger, AlertDispatcher? alerts)
    {
        _logger = logger;
        _alerts = alerts;
        LogConnecting(_server, Options.KeyPrefix, Options.FailMode);
        if (!_available)
        {
            Lost(_connection.IsConnected ? "not subscribed at start" : "not connected at start");
        }
    }

    /// <summary>Tells every node that a family of shared state changed; a failure only delays them until Redis returns.</summary>
    public async Task PublishAsync(string family)
    {
        try
        {
            await _connection.GetSubscriber().PublishAsync(_channel, family);
        }
        catch (Exception e) when (IsOutage(e))
        {
            Failed(e);
        }
    }

    /// <summary>True for the failures that mean Redis is unreachable or too slow, as opposed to a bug.</summary>
    public static bool IsOutage(Exception e) => e is RedisConnectionException or RedisTimeoutException or TimeoutException;

    /// <summary>
    /// Reports a failed call: a lost connection marks Redis unavailable at once; a timeout only from the third in a
    /// row, so that one slow answer (a pause, a cold start) costs one request its cluster view, not the whole node.
    /// </summary>
    public void Failed(Exception e)
    {
        if (e is RedisConnectionException || Interlocked.Increment(ref _timeouts) >= TimeoutsInARow)
        {
            Lost(e.GetType().Name);
        }
    }

    /// <summary>Reports a call that Redis answered in time.</summary>
    public void Succeeded()
    {
        if (Volatile.Read(ref _timeouts) != 0)
        {
            Volatile.Write(ref _timeouts, 0);
        }
    }

    /// <summary>Counts a decision made without Redis (<paramref name="how"/>: "local" or "deferred").</summary>
    public void CountFallback(string how) => _fallbackDecisions.Add(1, new KeyValuePair<string, object?>("fail_mode", how));

    /// <summary>
    /// Marks Redis unavailable after a failed call: logs and alerts once per outage and starts the probe that
    /// restores it.
    /// </summary>
    public void Lost(string failure)
    {
        if (Interlocked.Exchange(ref _probing, 1) == 1)
        {
            _available = false;
            return;
        }

        _available = false;
        var consequence = Options.FailMode == FailMode.Open
            ? "deciding with this node's own counters: the cluster view is lost until it returns"
            : "answering defer (fail mode closed) until it returns";
        LogUnavailable(_server, failure, consequence);
        _alerts?.Raise("store unavailable", $"Floodgate cannot reach its Redis store at {_server} ({failure}); {consequence}.");
        _ = Task.Run(ProbeAsync);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _meter.Dispose();
        await _connection.CloseAsync(allowCommandsToComplete: false);
        await _connection.DisposeAsync();
    }

    // Once subscribed, StackExchange.Redis subscribes again by itself after every reconnection.
    private async Task<bool> SubscribeAsync()
    {
        if (_subscribed)
        {
            return true;
        }

        try
        {
            await _connection.GetSubscriber().SubscribeAsync(_channel, (_, family) => Changed?.Invoke(family.ToString()));
            _subscribed = true;
            return true;
        }
        catch (Exception e) when (IsOutage(e))
        {
            return false;
        }
    }

    private async Task ProbeAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ProbeInterval, _stopping.Token);
                await Database.PingAsync();
                if (!await SubscribeAsync())
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                continue;
            }

            Volatile.Write(ref _timeouts, 0);
            _available = true;
            Volatile.Write(ref _probing, 0);
            LogRestored(_server);
            _alerts?.Raise("store available", $"Floodgate reaches its Redis store at {_server} again; the cluster view is restored.");
            Restored?.Invoke();
            return;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "store: redis at {Server}, key prefix {Prefix}, fail mode {FailMode}")]
    private partial void LogConnecting(string server, string prefix, FailMode failMode);

    [LoggerMessage(Level = LogLevel.Error, Message = "store unavailable: redis at {Server} ({Failure}); {Consequence}")]
    private partial void LogUnavailable(string server, string failure, string consequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "store available again: redis at {Server}; the cluster view is restored")]
    private partial void LogRestored(string server);
}
