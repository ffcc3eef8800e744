using System.Globalization;
using System.Net;
using Floodgate.Configuration;
using Floodgate.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Floodgate.Bench.Load;

/// <summary>A Floodgate host in this process, built from YAML the way `floodgate serve` builds it, on a free loopback port.</summary>
internal sealed class InProcessFloodgate : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;

    private InProcessFloodgate(WebApplication app, IPEndPoint endpoint, string config, string dataDirectory)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        Endpoint = endpoint;
        Config = config;
    }

    /// <summary>The configuration lines that put the embedded store on snapshots alone, without the counter journal.</summary>
    public const string SnapshotDurability = "\ncounters: { durability: snapshot }\n";

    public IPEndPoint Endpoint { get; }

    /// <summary>The configuration text it runs with.</summary>
    public string Config { get; }

    /// <summary>
    /// Starts a host with one rule: account, messages, <paramref name="max"/> per 1h, defer; on the embedded store, or
    /// on the Redis that <paramref name="redisConnection"/> names; <paramref name="journal"/> false runs the embedded
    /// store on snapshots alone (counters.durability: snapshot).
    /// </summary>
    public static async Task<InProcessFloodgate> StartAsync(long max, string? decisionLog, string? redisConnection = null, bool journal = true)
    {
        var endpoint = Loopback.FreeEndpoint();
        var data = Directory.CreateTempSubdirectory("floodgate-bench-").FullName;
        var config = ConfigFor(endpoint, max, decisionLog, data);
        if (redisConnection is not null)
        {
            // Each server its own key prefix: counters of an earlier set of runs in the same Redis do not carry over.
            config += $"\nstore: redis\nredis:\n  connection: \"{redisConnection}\"\n  key_prefix: \"bench{Guid.NewGuid():N}:\"\n  fail_mode: closed\n";
        }

        if (!journal)
        {
            config += SnapshotDurability;
        }

        // No environment overrides: FLOODGATE_* variables in the shell must not change what is measured.
        var options = ConfigLoader.Parse(config, "load tool", environment: null);
        var app = FloodgateHost.Build(options, logging: logging => logging.ClearProviders());
        await app.StartAsync();
        return new InProcessFloodgate(app, endpoint, config, data);
    }

    /// <summary>
    /// The YAML of a Floodgate listening on <paramref name="endpoint"/> with one rule: account, messages,
    /// <paramref name="max"/> per 1h, defer; decision log to <paramref name="decisionLog"/> (a path or stdout), or none;
    /// its state (SQLite, admin token) in <paramref name="dataDirectory"/>, its admin API on a free port.
    /// </summary>
    public static string ConfigFor(IPEndPoint endpoint, long max, string? decisionLog, string dataDirectory)
    {
        var log = decisionLog is null ? "none" : "'" + decisionLog.Replace("'", "''", StringComparison.Ordinal) + "'";
        return string.Create(CultureInfo.InvariantCulture, $$"""
            listen:
              policy: ["{{endpoint}}"]
              admin: "127.0.0.1:0"
            data_dir: '{{dataDirectory.Replace("'", "''", StringComparison.Ordinal)}}'
            limits:
              - { name: load, scope: account, unit: messages, max: {{max}}, per: 1h, action: defer }
            log:
              decisions: {{log}}
            """);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
