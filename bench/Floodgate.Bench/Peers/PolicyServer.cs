using System.Net;
using Floodgate.Bench.Load;

namespace Floodgate.Bench.Peers;

/// <summary>A policy service under test: started on a loopback port with the rule of the comparison, stopped when disposed.</summary>
internal abstract class PolicyServer : IAsyncDisposable
{
    protected PolicyServer(string name, string tag, PostfixState state, IPEndPoint endpoint)
    {
        Name = name;
        Tag = tag;
        State = state;
        Endpoint = endpoint;
    }

    /// <summary>The row label in the table.</summary>
    public string Name { get; }

    /// <summary>Short, login-safe: the prefix of this server's logins.</summary>
    public string Tag { get; }

    /// <summary>The stage the server is sent requests at: the one it counts at.</summary>
    public PostfixState State { get; }

    public IPEndPoint Endpoint { get; protected set; }

    /// <summary>Whether it enforces the rule; the ceiling answers DUNNO to everything and is not checked.</summary>
    public virtual bool Enforces => true;

    /// <summary>The command line and configuration it runs with, for the report.</summary>
    public string Setup { get; protected set; } = "";

    /// <exception cref="PeerException">It could not be started or does not listen within <paramref name="timeout"/>.</exception>
    public abstract Task StartAsync(TimeSpan timeout, CancellationToken cancel);

    /// <summary>Why it stopped serving (it exited, or its daemon is gone), or null while it runs.</summary>
    public abstract string? Failure();

    /// <summary>What a run that timed out should report about the server besides the timeout, or null.</summary>
    public virtual string? Condition() => null;

    public abstract ValueTask DisposeAsync();

    /// <summary>Waits until a TCP connection to <see cref="Endpoint"/> succeeds, giving up when the server fails or the time is up.</summary>
    /// <exception cref="PeerException">It failed or did not listen in time.</exception>
    protected Task WaitUntilListeningAsync(TimeSpan timeout, CancellationToken cancel) =>
        Loopback.WaitForListenerAsync(Name, Endpoint, Failure, timeout, cancel);

    /// <summary>Hands <paramref name="directory"/> to the unprivileged account a daemon switches to, so it can write its pid file, socket or database there.</summary>
    internal static async Task GiveToAsync(string directory, string user, string group, CancellationToken cancel)
    {
        var (code, output) = await ChildProcess.RunAsync("chown", [$"{user}:{group}", directory], TimeSpan.FromSeconds(10), cancel);
        if (code != 0)
        {
            throw new PeerException($"chown {user}:{group} {directory} failed: {output}");
        }
    }
}
