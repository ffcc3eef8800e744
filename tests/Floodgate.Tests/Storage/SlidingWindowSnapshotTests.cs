using CsCheck;
using Floodgate.Engine;

namespace Floodgate.Tests.Storage;

public class SlidingWindowSnapshotTests
{
    [Fact]
    public void Window_SavedAndRestored_CountsTheSame()
    {
        Gen.Select(Gen.Long[0, 40].Array[1, 60], Gen.Int[1, 9].Array[60]).Sample(sample =>
        {
            var (steps, units) = sample;
            var window = default(SlidingWindow);
            long slot = 1_000_000;
            for (var i = 0; i < steps.Length; i++)
            {
                slot += steps[i];
                window.Add(slot, units[i]);
            }

            var bytes = new byte[SlidingWindow.SerializedBytes];
            window.WriteTo(bytes);
            var restored = default(SlidingWindow);
            if (!restored.TryReadFrom(bytes))
            {
                throw new InvalidOperationException("a saved window did not read back");
            }

            for (var later = slot; later < slot + 40; later++)
            {
                if (restored.CountAt(later) != window.CountAt(later))
                {
                    throw new InvalidOperationException($"counts differ at slot {later}");
                }
            }
        });
    }

    [Fact]
    public void Window_CorruptBytes_AreRefused()
    {
        var window = default(SlidingWindow);
        window.Add(5, 3);
        var bytes = new byte[SlidingWindow.SerializedBytes];
        window.WriteTo(bytes);
        bytes[20] ^= 0xFF;

        var restored = default(SlidingWindow);
        Assert.False(restored.TryReadFrom(bytes));
        Assert.False(restored.TryReadFrom(bytes.AsSpan(0, 10)));
        Assert.Equal(0, restored.CountAt(5));
    }
}
