using Floodgate.Configuration;
using Floodgate.Relay;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Floodgate.Hosting;

/// <summary>The SMTP relay endpoints of this process, each with its own handler and connection count.</summary>
public sealed class RelayListeners(IServiceProvider services)
{
    private readonly List<(ListenEndpoint Endpoint, SmtpConnectionHandler Handler, ListenOptions Listen)> _handlers = [];

    public IReadOnlyList<(ListenEndpoint Endpoint, SmtpConnectionHandler Handler, ListenOptions Listen)> Handlers => _handlers;

    /// <summary>The addresses actually bound once the host has started (a configured port 0 gets a free port).</summary>
    public IEnumerable<System.Net.IPEndPoint> BoundEndpoints => _handlers.Select(h => h.Listen.IPEndPoint!);

    public SmtpConnectionHandler Add(ListenEndpoint endpoint, ListenOptions listen)
    {
        var options = services.GetRequiredService<FloodgateOptions>();
        var handler = new SmtpConnectionHandler(
            options.Relay,
            services.GetRequiredService<RelayIntake>(),
            services.GetRequiredService<RelayPassword>(),
            services.GetRequiredService<RelayTls>().Certificate,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<SmtpConnectionHandler>>(),
            endpoint.ToString(),
            services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        _handlers.Add((endpoint, handler, listen));
        return handler;
    }
}
