using System.Text;

namespace Floodgate.Policy;

/// <summary>
/// Turns an attribute value into a string, reusing the previous string when the bytes repeat: one smtpd process
/// asks about the same client, login and sender many times, so the hot path allocates only on change.
/// </summary>
internal sealed class Utf8StringCache
{
    private byte[] _bytes = new byte[64];
    private int _length = -1;
    private string _value = "";

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (_length == utf8.Length && utf8.SequenceEqual(_bytes.AsSpan(0, _length)))
        {
            return _value;
        }

        if (utf8.Length > _bytes.Length)
        {
            _bytes = new byte[Math.Max(utf8.Length, _bytes.Length * 2)];
        }

        utf8.CopyTo(_bytes);
        _length = utf8.Length;
        _value = Encoding.UTF8.GetString(utf8);
        return _value;
    }
}
