using System.Globalization;

namespace Floodgate.Eval.Corpus;

/// <summary>Postfix-like short queue ids (ten hex digits), one per number and never the same for two numbers.</summary>
internal static class QueueIds
{
    private const ulong Mask = (1UL << 40) - 1;

    // Multiplying by an odd number is a bijection modulo 2^40: consecutive numbers give ids that look scattered and never collide.
    public static string Of(long n) => unchecked((((ulong)n * 0x9E3779B97F4A7C15UL) + 0x5DEECE66DUL) & Mask).ToString("X10", CultureInfo.InvariantCulture);
}
