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
    private int _probing;

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

    public IDatabase Database { get; }

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
        config.ConnectTimeout = (int)Math.Max(options.Timeout.TotalMilliseconds * 4, 1000);
        config.SyncTimeout = (int)options.Timeout.TotalMilliseconds;
        config.AsyncTimeout = (int)options.Timeout.TotalMilliseconds;

        // Fail fast instead of queueing while disconnected: a policy request must never wait out an outage.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy = new LinearRetry(500);
        config.ClientName ??= "floodgate";
        var server = string.Join(",", config.EndPoints.Select(e => e.ToString())) + (config.Ssl ? " (TLS)" : "");
        var connection = await ConnectionMultiplexer.ConnectAsync(config);
        var store = new RedisStore(connection, options, server);
        await connection.GetSubscriber().SubscribeAsync(store._channel, (_, family) => store.Changed?.Invoke(family.ToString()));
        store._available = connection.IsConnected;
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
            Lost("not connected at start");
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
            Lost(e.GetType().Name);
        }
    }

    /// <summary>True for the failures that mean Redis is unreachable or too slow, as opposed to a bug.</summary>
    public static bool IsOutage(Exception e) => e is RedisConnectionException or RedisTimeoutException or TimeoutException;

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

    private async Task ProbeAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ProbeInterval, _stopping.Token);
                await Database.PingAsync();
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                continue;
            }

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
