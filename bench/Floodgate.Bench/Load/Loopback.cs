using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Floodgate.Bench.Peers;

namespace Floodgate.Bench.Load;

/// <summary>Loopback ports for servers that want a concrete port in their configuration.</summary>
internal static class Loopback
{
    /// <summary>A port the kernel hands out on 127.0.0.1, released again for the server to bind.</summary>
    public static IPEndPoint FreeEndpoint()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)probe.LocalEndPoint!).Port);
    }

    /// <summary>Waits until <paramref name="name"/> accepts connections on <paramref name="endpoint"/>.</summary>
    /// <exception cref="PeerException">It stopped (<paramref name="failure"/> says why) or did not listen within <paramref name="timeout"/>.</exception>
    public static async Task WaitForListenerAsync(string name, IPEndPoint endpoint, Func<string?> failure, TimeSpan timeout, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (failure() is { } why)
            {
                throw new PeerException($"{name} did not start: {why}");
            }

            try
            {
                using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(endpoint, cancel);
                return;
            }
            catch (SocketException) when (clock.Elapsed < timeout)
            {
                await Task.Delay(100, cancel);
            }
            catch (SocketException e)
            {
                throw new PeerException($"{name} did not listen on {endpoint} within {timeout.TotalSeconds:F0} s: {e.Message}");
            }
        }
    }
}
