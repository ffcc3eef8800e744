using System.Runtime.InteropServices;

namespace Floodgate.Behaviour;

/// <summary>
/// A Bloom filter over a profile's inline bit arrays: four bits per item by double hashing one 64-bit hash. At the
/// profile's rotation sizes (100 domains in 1,024 bits, 200 addresses in 2,048) about 1 in 70 unknown items looks
/// known, which weakens a signal and never strengthens one.
/// </summary>
internal static class Bloom
{
    private const int Probes = 4;

    public static bool Contains(in ProfileState.Bits1024 bits, ulong hash) =>
        Contains(MemoryMarshal.CreateReadOnlySpan(in bits[0], ProfileState.DomainWords), hash);

    public static bool Contains(in ProfileState.Bits2048 bits, ulong hash) =>
        Contains(MemoryMarshal.CreateReadOnlySpan(in bits[0], ProfileState.AddressWords), hash);

    public static void Add(ref ProfileState.Bits1024 bits, ulong hash) => Add(MemoryMarshal.CreateSpan(ref bits[0], ProfileState.DomainWords), hash);

    public static void Add(ref ProfileState.Bits2048 bits, ulong hash) => Add(MemoryMarshal.CreateSpan(ref bits[0], ProfileState.AddressWords), hash);

    private static bool Contains(ReadOnlySpan<ulong> words, ulong hash)
    {
        var size = (uint)words.Length * 64;
        uint h1 = (uint)hash, h2 = (uint)(hash >> 32) | 1;
        for (uint i = 0; i < Probes; i++)
        {
            var bit = (h1 + (i * h2)) & (size - 1);
            if ((words[(int)(bit >> 6)] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static void Add(Span<ulong> words, ulong hash)
    {
        var size = (uint)words.Length * 64;
        uint h1 = (uint)hash, h2 = (uint)(hash >> 32) | 1;
        for (uint i = 0; i < Probes; i++)
        {
            var bit = (h1 + (i * h2)) & (size - 1);
            words[(int)(bit >> 6)] |= 1UL << (int)(bit & 63);
        }
    }
}
