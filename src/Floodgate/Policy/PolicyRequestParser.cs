using System.Buffers;

namespace Floodgate.Policy;

/// <summary>
/// Reads Postfix policy requests: name=value lines ended by an empty line (SMTPD_POLICY_README). Written by hand
/// because no maintained .NET library speaks this protocol. One instance per connection: it remembers how far it
/// has looked for the end of a partial request so a slow client costs linear, not quadratic, work.
/// </summary>
public sealed class PolicyRequestParser
{
    private readonly int _maxRequestBytes;
    private readonly int _maxAttributes;
    private long _searched;

    public PolicyRequestParser(int maxRequestBytes, int maxAttributes)
    {
        _maxRequestBytes = maxRequestBytes;
        _maxAttributes = maxAttributes;
    }

    /// <summary>
    /// Parses one complete request from the start of <paramref name="buffer"/> into <paramref name="request"/> and
    /// slices it off; returns false, leaving the buffer as it was, when the request is not complete yet.
    /// </summary>
    /// <exception cref="PolicyProtocolException">The input is not a policy request or breaks a bound.</exception>
    public bool TryParse(ref ReadOnlySequence<byte> buffer, PolicyRequest request)
    {
        if (!TryFindEnd(buffer, out var end, out var terminator))
        {
            return false;
        }

        var block = buffer.Slice(0, end);
        buffer = buffer.Slice(end + terminator);
        _searched = 0;
        request.Reset();
        ParseLines(block, request);
        return true;
    }

    // Finds the empty line that ends a request: "\n" (Postfix) or "\r\n" (a person typing) right after a line's "\n".
    private bool TryFindEnd(in ReadOnlySequence<byte> buffer, out long end, out int terminator)
    {
        end = -1;
        terminator = 0;
        if (buffer.FirstSpan.Length > 0 && buffer.FirstSpan[0] == (byte)'\n')
        {
            throw new PolicyProtocolException("empty request (a blank line with no attributes)");
        }

        var reader = new SequenceReader<byte>(buffer);

        // Resume two bytes before where the last look stopped, in case the terminator straddles the two reads.
        var start = Math.Max(0, _searched - 2);
        reader.Advance(start);
        while (reader.TryAdvanceTo((byte)'\n', advancePastDelimiter: true))
        {
            terminator = reader.IsNext((byte)'\n') ? 1 : reader.IsNext("\r\n"u8) ? 2 : 0;
            if (terminator > 0)
            {
                end = reader.Consumed;
                if (end + 1 > _maxRequestBytes)
                {
                    throw new PolicyProtocolException($"request larger than {_maxRequestBytes} bytes");
                }

                return true;
            }

            if (reader.End)
            {
                break;
            }
        }

        _searched = buffer.Length;
        if (buffer.Length > _maxRequestBytes)
        {
            throw new PolicyProtocolException($"request larger than {_maxRequestBytes} bytes");
        }

        return false;
    }

    private void ParseLines(ReadOnlySequence<byte> block, PolicyRequest request)
    {
        var reader = new SequenceReader<byte>(block);
        while (!reader.End)
        {
            ReadOnlySpan<byte> line;
            byte[]? rented = null;
            if (reader.TryReadTo(out ReadOnlySpan<byte> span, (byte)'\n'))
            {
                line = span;
            }
            else
            {
                // The last line runs to the block's end (its '\n' belongs to the empty-line terminator).
                var rest = reader.UnreadSequence;
                if (rest.IsSingleSegment)
                {
                    line = rest.FirstSpan;
                }
                else
                {
                    rented = ArrayPool<byte>.Shared.Rent((int)rest.Length);
                    rest.CopyTo(rented);
                    line = rented.AsSpan(0, (int)rest.Length);
                }

                reader.AdvanceToEnd();
            }

            try
            {
                ParseLine(line, request);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }

        if (!request.IsAccessPolicy)
        {
            throw new PolicyProtocolException("request without request=smtpd_access_policy");
        }
    }

    private void ParseLine(ReadOnlySpan<byte> line, PolicyRequest request)
    {
        // Postfix ends lines with \n alone; a hand-typed \r\n is tolerated.
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        var eq = line.IndexOf((byte)'=');
        if (eq <= 0)
        {
            throw new PolicyProtocolException(eq == 0 ? "attribute with an empty name" : "line without name=value");
        }

        if (request.AttributeCount >= _maxAttributes)
        {
            throw new PolicyProtocolException($"more than {_maxAttributes} attributes in one request");
        }

        request.Set(line[..eq], line[(eq + 1)..]);
    }
}
