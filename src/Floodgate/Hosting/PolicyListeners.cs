using Floodgate.Configuration;
using Floodgate.Policy;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Floodgate.Hosting;

/// <summary>The policy endpoints of this process, each with its own handler and connection count.</summary>
public sealed class PolicyListeners(IServiceProvider services) : IDisposable
{
    private readonly List<(ListenEndpoint Endpoint, PolicyConnectionHandler Handler, ListenOptions Listen)> _handlers = [];

    public IReadOnlyList<(ListenEndpoint Endpoint, PolicyConnectionHandler Handler, ListenOptions Listen)> Handlers => _handlers;

    /// <summary>The TCP addresses actually bound once the host has started (a configured port 0 gets a free port).</summary>
    public IEnumerable<System.Net.IPEndPoint> BoundTcpEndpoints =>
        _handlers.Where(h => h.Endpoint.Tcp is not null).Select(h => h.Listen.IPEndPoint!);

    public void Dispose()
    {
        foreach (var (_, handler, _) in _handlers)
        {
            handler.Dispose();
        }
    }

    /// <summary>How a listener is named on the dashboard and in metrics: its bound address (a configured port 0 shows the real port).</summary>
    public static string NameOf(ListenEndpoint endpoint, ListenOptions listen) =>
        endpoint.Tcp is not null && listen.IPEndPoint is { } bound ? bound.ToString() : endpoint.ToString();

    public PolicyConnectionHandler Add(ListenEndpoint endpoint, ListenOptions listen)
    {
        var options = services.GetRequiredService<FloodgateOptions>();
        var handler = new PolicyConnectionHandler(
            services.GetRequiredService<Pipeline.DecisionPipeline>(),
            services.GetRequiredService<PolicyPoint>().Point,
            options,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<PolicyConnectionHandler>>(),
            endpoint.ToString(),
            services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        _handlers.Add((endpoint, handler, listen));
        return handler;
    }
}
