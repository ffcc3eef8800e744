using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// The addresses a unique-recipients window has counted: each address's hash (<see cref="RecipientHashes"/>) with the
/// slot it was last counted in. An address counts once while it is inside the window: written to again, its unit moves
/// to the newer slot (<see cref="SlidingWindow.Move"/>), so the window's total is the number of distinct addresses
/// written to in it. At most <see cref="LimitRule.TrackedMax"/> addresses are remembered (<see cref="BytesPerAddress"/>
/// each); past that an address not remembered counts as new every time: the count may run high, never low.
/// </summary>
public sealed class RecipientSet
{
    /// <summary>What one remembered address costs: a dictionary entry (hash, slot, its own hash code and link) and a bucket.</summary>
    public const int BytesPerAddress = 28;

    /// <summary>Bytes per address in <see cref="WriteTo"/>: hash and slot.</summary>
    public const int SerializedBytesPerAddress = 16;

    private readonly Dictionary<ulong, long> _lastSlot = [];
    private long _prunedAt = long.MinValue;

    /// <summary>Addresses remembered (some may have left the window until the next prune).</summary>
    public int Addresses => _lastSlot.Count;

    /// <summary>How many of <paramref name="hashes"/> (distinct) are not counted in the window ending in <paramref name="slot"/>.</summary>
    public long NotCounted(ReadOnlySpan<ulong> hashes, long slot)
    {
        long n = 0;
        foreach (var hash in hashes)
        {
            if (!_lastSlot.TryGetValue(hash, out var seen) || slot - seen >= SlidingWindow.Slots)
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>
    /// Counts <paramref name="hashes"/> (distinct) into <paramref name="window"/> at <paramref name="slot"/>, remembering at
    /// most <paramref name="cap"/> addresses; returns the change in addresses remembered.
    /// </summary>
    public int Count(ref SlidingWindow window, ReadOnlySpan<ulong> hashes, long slot, long cap)
    {
        var before = _lastSlot.Count;
        foreach (var hash in hashes)
        {
            ref var seen = ref CollectionsMarshal.GetValueRefOrNullRef(_lastSlot, hash);
            if (!Unsafe.IsNullRef(ref seen))
            {
                if (slot - seen < SlidingWindow.Slots)
                {
                    window.Move(seen, slot);
                    seen = Math.Max(seen, slot);
                    continue;
                }

                seen = slot;
                window.Add(slot, 1);
                continue;
            }

            window.Add(slot, 1);
            if (_lastSlot.Count >= cap && _prunedAt != slot)
            {
                Prune(slot);
            }

            if (_lastSlot.Count < cap)
            {
                _lastSlot[hash] = slot;
            }
        }

        // Addresses whose window has passed are forgotten once they could be the larger part.
        if (_lastSlot.Count > 64 && _lastSlot.Count > 2 * window.CountAt(slot) && _prunedAt != slot)
        {
            Prune(slot);
        }

        return _lastSlot.Count - before;
    }

    /// <summary>Saves the remembered addresses after a window's bytes (for snapshots).</summary>
    public byte[] WriteTo(ReadOnlySpan<byte> window)
    {
        var bytes = new byte[window.Length + (_lastSlot.Count * SerializedBytesPerAddress)];
        window.CopyTo(bytes);
        var at = window.Length;
        foreach (var (hash, slot) in _lastSlot)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), hash);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at + 8), slot);
            at += SerializedBytesPerAddress;
        }

        return bytes;
    }

    /// <summary>Restores addresses saved by <see cref="WriteTo"/> (at most <paramref name="cap"/>); false when the bytes do not divide.</summary>
    public bool TryReadFrom(ReadOnlySpan<byte> source, long cap, out int added)
    {
        added = 0;
        if (source.Length % SerializedBytesPerAddress != 0)
        {
            return false;
        }

        for (var at = 0; at < source.Length && _lastSlot.Count < cap; at += SerializedBytesPerAddress)
        {
            if (_lastSlot.TryAdd(BinaryPrimitives.ReadUInt64LittleEndian(source[at..]), BinaryPrimitives.ReadInt64LittleEndian(source[(at + 8)..])))
            {
                added++;
            }
        }

        return true;
    }

    private void Prune(long slot)
    {
        _prunedAt = slot;
        foreach (var (hash, seen) in _lastSlot)
        {
            if (slot - seen >= SlidingWindow.Slots)
            {
                _lastSlot.Remove(hash);
            }
        }
    }
}
