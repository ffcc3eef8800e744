using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Floodgate.Engine;

/// <summary>
/// Units counted in one window, kept in a ring of <see cref="Slots"/> slots of <see cref="LimitRule.SlotTicks"/> each.
/// </summary>
/// <remarks>
/// The count at time t covers slots s-31 .. s where s is t's slot: the interval [(s-31)·g, t], which always contains
/// the exact window (t-W, t] because 31·g ≥ W. So the count never misses a unit inside the window (a limit is never
/// exceeded) and may include units up to one slot g ≈ W/31 older than the window (a message may be refused up to
/// W/31 before an exact sliding log would accept it). 32 slots of 4 bytes keep one rule's state in 144 bytes.
/// </remarks>
public struct SlidingWindow
{
    public const int Slots = 32;

    /// <summary>Bytes of <see cref="WriteTo"/>: the newest slot, the total and every slot's count.</summary>
    public const int SerializedBytes = 16 + (Slots * 4);

    private const int Mask = Slots - 1;

    private SlotCounts _slots;
    private long _lastSlot;
    private long _total;

    /// <summary>Units counted in the window that ends in <paramref name="slot"/>.</summary>
    public long CountAt(long slot)
    {
        Advance(slot);
        return _total;
    }

    /// <summary>Adds units in <paramref name="slot"/> (after <see cref="CountAt"/> has advanced the ring to it).</summary>
    public void Add(long slot, long units)
    {
        Advance(slot);
        _slots[(int)(Math.Max(slot, _lastSlot) & Mask)] += (uint)units;
        _total += units;
    }

    /// <summary>
    /// Moves one unit counted in <paramref name="from"/> to <paramref name="slot"/> (a unique recipient written to again:
    /// the count stays, the unit now expires later). Nothing moves when <paramref name="from"/> has expired or is newest.
    /// </summary>
    public void Move(long from, long slot)
    {
        Advance(slot);
        var to = Math.Max(slot, _lastSlot);
        if (from >= to || to - from >= Slots)
        {
            return;
        }

        ref var old = ref _slots[(int)(from & Mask)];
        if (old > 0)
        {
            old--;
            _slots[(int)(to & Mask)]++;
        }
    }

    /// <summary>True when nothing counted is still inside a window ending in <paramref name="slot"/>.</summary>
    public readonly bool IsIdleAt(long slot) => _total == 0 || slot - _lastSlot >= Slots;

    /// <summary>Saves the window (for snapshots that survive a restart).</summary>
    public readonly void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, _lastSlot);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], _total);
        for (var i = 0; i < Slots; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(16 + (i * 4))..], _slots[i]);
        }
    }

    /// <summary>Restores a window saved by <see cref="WriteTo"/>; false (and nothing changed) when the bytes do not add up.</summary>
    public bool TryReadFrom(ReadOnlySpan<byte> source)
    {
        if (source.Length != SerializedBytes)
        {
            return false;
        }

        var slots = default(SlotCounts);
        long sum = 0;
        for (var i = 0; i < Slots; i++)
        {
            slots[i] = BinaryPrimitives.ReadUInt32LittleEndian(source[(16 + (i * 4))..]);
            sum += slots[i];
        }

        var total = BinaryPrimitives.ReadInt64LittleEndian(source[8..]);
        if (sum != total)
        {
            return false;
        }

        _lastSlot = BinaryPrimitives.ReadInt64LittleEndian(source);
        _total = total;
        _slots = slots;
        return true;
    }

    private void Advance(long slot)
    {
        // A clock that steps back (NTP) counts into the newest slot rather than reopening expired ones.
        if (slot <= _lastSlot)
        {
            return;
        }

        if (slot - _lastSlot >= Slots)
        {
            _slots = default;
            _total = 0;
        }
        else
        {
            for (var s = _lastSlot + 1; s <= slot; s++)
            {
                ref var expired = ref _slots[(int)(s & Mask)];
                _total -= expired;
                expired = 0;
            }
        }

        _lastSlot = slot;
    }

    [InlineArray(Slots)]
    private struct SlotCounts
    {
        private uint _element;
    }
}
