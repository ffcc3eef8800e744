using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Floodgate.Configuration;
using Floodgate.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Floodgate.Bench.Load;

/// <summary>A Floodgate host in this process, built from YAML the way `floodgate serve` builds it, on a free loopback port.</summary>
internal sealed class InProcessFloodgate : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessFloodgate(WebApplication app, IPEndPoint endpoint, string config)
    {
        _app = app;
        Endpoint = endpoint;
        Config = config;
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>The configuration text it runs with.</summary>
    public string Config { get; }

    /// <summary>Starts a host with one rule: account, messages, <paramref name="max"/> per 1h, defer.</summary>
    public static async Task<InProcessFloodgate> StartAsync(long max, string? decisionLog)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, FreePort());
        var log = decisionLog is null ? "none" : "'" + decisionLog.Replace("'", "''", StringComparison.Ordinal) + "'";
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            listen:
              policy: ["{{endpoint}}"]
            limits:
              - { name: load, scope: account, unit: messages, max: {{max}}, per: 1h, action: defer }
            log:
              decisions: {{log}}
            """);

        // No environment overrides: FLOODGATE_* variables in the shell must not change what is measured.
        var options = ConfigLoader.Parse(config, "load tool", environment: null);
        var app = FloodgateHost.Build(options, logging: logging => logging.ClearProviders());
        await app.StartAsync();
        return new InProcessFloodgate(app, endpoint, config);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // The configuration wants a concrete port: take one the kernel hands out, then release it for Kestrel.
    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
