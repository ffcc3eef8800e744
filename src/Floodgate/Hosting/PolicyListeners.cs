using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Policy;

namespace Floodgate.Hosting;

/// <summary>The policy endpoints of this process, each with its own handler and connection count.</summary>
public sealed class PolicyListeners(IServiceProvider services)
{
    private readonly List<(ListenEndpoint Endpoint, PolicyConnectionHandler Handler)> _handlers = [];

    public IReadOnlyList<(ListenEndpoint Endpoint, PolicyConnectionHandler Handler)> Handlers => _handlers;

    public PolicyConnectionHandler Add(ListenEndpoint endpoint)
    {
        var handler = new PolicyConnectionHandler(
            services.GetRequiredService<DecisionEngine>(),
            services.GetRequiredService<FloodgateOptions>(),
            services.GetRequiredService<DecisionLog>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<PolicyConnectionHandler>>(),
            endpoint.ToString());
        _handlers.Add((endpoint, handler));
        return handler;
    }
}
