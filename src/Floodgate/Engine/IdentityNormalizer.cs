using System.Globalization;
using System.Text;

namespace Floodgate.Engine;

/// <summary>
/// The one spelling of an account, address, domain or IP key: invisible differences (surrounding whitespace, format
/// characters such as zero-width spaces, the root's trailing dot, composed or decomposed accents, case) give the same
/// key, while a look-alike made of other characters (the Kelvin sign for "k") stays a different one.
/// </summary>
public static class IdentityNormalizer
{
    // Characters whose canonical (NFC) or lower-case mapping is a plain ASCII character: folding them would let a
    // look-alike name count as, and get suspended as, the real one (U+212A KELVIN SIGN would become "k").
    private static readonly string AsciiSingletons = "\u037E\u1FEF\u212A";

    /// <summary>
    /// True when <paramref name="key"/> is already normal and printable ASCII (no upper case, no whitespace, no
    /// control character, no trailing dot after an "@"): the common case, checked without allocating.
    /// </summary>
    public static bool IsNormalAscii(ReadOnlySpan<char> key)
    {
        foreach (var c in key)
        {
            if (c is <= ' ' or >= (char)0x7F or (>= 'A' and <= 'Z'))
            {
                return false;
            }
        }

        return key.IsEmpty || key[^1] != '.' || !key.Contains('@');
    }

    /// <summary>The normal form of <paramref name="key"/>; the same instance when it is already normal ASCII.</summary>
    public static string Normalize(string key)
    {
        if (IsNormalAscii(key))
        {
            return key;
        }

        var text = new StringBuilder(key.Length);
        Span<char> utf16 = stackalloc char[2];
        foreach (var rune in key.EnumerateRunes())
        {
            // Format characters (zero-width space and joiners, BOM, bidi marks) are invisible: they never name anyone.
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.Format)
            {
                var lower = Rune.ToLowerInvariant(rune);
                text.Append(utf16[..(lower.IsAscii && !rune.IsAscii ? rune : lower).EncodeToUtf16(utf16)]);
            }
        }

        var lowered = Compose(text.ToString().Trim());
        return lowered.Length > 1 && lowered[^1] == '.' && lowered.Contains('@', StringComparison.Ordinal) ? lowered.TrimEnd('.') : lowered;
    }

    // NFC, piece by piece between the characters NFC would turn into ASCII, which are kept as they are.
    private static string Compose(string text)
    {
        if (text.AsSpan().IndexOfAny(AsciiSingletons) < 0)
        {
            return text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
        }

        var composed = new StringBuilder(text.Length);
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (AsciiSingletons.Contains(text[i], StringComparison.Ordinal))
            {
                composed.Append(text.AsSpan(start, i - start).ToString().Normalize(NormalizationForm.FormC)).Append(text[i]);
                start = i + 1;
            }
        }

        return composed.Append(text[start..].Normalize(NormalizationForm.FormC)).ToString();
    }
}
