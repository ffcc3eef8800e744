using System.Net;

namespace Floodgate.Bench.Relay;

/// <summary>An SMTP server measured relaying to the sink: started on loopback, stopped when disposed.</summary>
internal abstract class RelayUnderTest : IAsyncDisposable
{
    protected RelayUnderTest(string name, CountingSink sink)
    {
        Name = name;
        Sink = sink;
    }

    /// <summary>The row label in the table.</summary>
    public string Name { get; }

    /// <summary>Its next hop.</summary>
    public CountingSink Sink { get; }

    /// <summary>Where clients connect.</summary>
    public IPEndPoint Endpoint { get; protected set; } = new(IPAddress.Loopback, 0);

    /// <summary>The command line and configuration it runs with, for the report.</summary>
    public string Setup { get; protected set; } = "";

    /// <exception cref="Peers.PeerException">It could not be started or does not listen within <paramref name="timeout"/>.</exception>
    public abstract Task StartAsync(TimeSpan timeout, CancellationToken cancel);

    /// <summary>Why it stopped serving, or null while it runs.</summary>
    public abstract string? Failure();

    public abstract ValueTask DisposeAsync();
}
