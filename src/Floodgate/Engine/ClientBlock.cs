using System.Net;

namespace Floodgate.Engine;

/// <summary>
/// The addresses counted as one client by the per-address limits: an IPv4 address, or a whole IPv6 /64 (one
/// customer's network; counting each of its 2^64 addresses alone would make every limit free to evade).
/// </summary>
public static class ClientBlock
{
    /// <summary>The address standing for <paramref name="address"/>'s block: itself for IPv4, its /64 prefix for IPv6.</summary>
    public static IPAddress Of(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
