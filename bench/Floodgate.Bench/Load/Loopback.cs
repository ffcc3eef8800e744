using System.Net;
using System.Net.Sockets;

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
}
