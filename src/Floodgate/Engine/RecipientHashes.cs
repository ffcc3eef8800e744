using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace Floodgate.Engine;

/// <summary>
/// The 64-bit hash a unique-recipients window remembers an address by: XXH3 of its normal form
/// (<see cref="IdentityNormalizer"/>, angle brackets dropped), the same on every node and after a restart.
/// </summary>
public static class RecipientHashes
{
    /// <summary>One address's hash.</summary>
    public static ulong Of(string address)
    {
        var normal = IdentityNormalizer.Normalize(address.Trim().Trim('<', '>'));
        var max = Encoding.UTF8.GetMaxByteCount(normal.Length);
        byte[]? rented = null;
        var buffer = max <= 1024 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(normal, buffer);
            return XxHash3.HashToUInt64(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The distinct hashes of <paramref name="recipients"/> into <paramref name="destination"/> (at least as long),
    /// sorted; returns how many.
    /// </summary>
    public static int Distinct(IReadOnlyList<string> recipients, Span<ulong> destination)
    {
        for (var i = 0; i < recipients.Count; i++)
        {
            destination[i] = Of(recipients[i]);
        }

        var all = destination[..recipients.Count];
        all.Sort();
        var n = 0;
        for (var i = 0; i < all.Length; i++)
        {
            if (n == 0 || all[i] != all[n - 1])
            {
                all[n++] = all[i];
            }
        }

        return n;
    }
}
