namespace Floodgate.Policy;

/// <summary>
/// The attributes of one policy request that Floodgate uses; one instance per connection, refilled by every request
/// (values that repeat from request to request reuse their strings).
/// </summary>
public sealed class PolicyRequest
{
    private readonly Utf8StringCache _saslUsername = new();
    private readonly Utf8StringCache _sender = new();
    private readonly Utf8StringCache _clientAddress = new();
    private readonly byte[] _instance = new byte[MaxInstanceBytes];
    private readonly byte[] _queueId = new byte[MaxInstanceBytes];
    private readonly byte[] _recipient = new byte[MaxRecipientBytes];
    private int _recipientLength;
    private int _instanceLength;
    private int _queueIdLength;

    /// <summary>A recipient longer than this is kept by its first bytes only (it is evidence, not identity).</summary>
    public const int MaxRecipientBytes = 320;

    /// <summary>Instance and queue ids longer than this are kept by their first bytes only.</summary>
    public const int MaxInstanceBytes = 64;

    public ProtocolState State { get; private set; }

    /// <summary>True when the request named request=smtpd_access_policy.</summary>
    public bool IsAccessPolicy { get; private set; }

    public string? SaslUsername { get; private set; }

    /// <summary>The envelope sender: empty for the null sender, null when Postfix did not send it.</summary>
    public string? Sender { get; private set; }

    public int RecipientCount { get; private set; }

    public long Size { get; private set; }

    public string? ClientAddress { get; private set; }

    /// <summary>Postfix's queue id (END-OF-MESSAGE, and DATA with some configurations); raw bytes, made a string only when kept.</summary>
    public ReadOnlySpan<byte> QueueId => _queueId.AsSpan(0, _queueIdLength);

    /// <summary>The same bytes as <see cref="QueueId"/>, valid until the next request is parsed.</summary>
    public ReadOnlyMemory<byte> QueueIdMemory => _queueId.AsMemory(0, _queueIdLength);

    /// <summary>The recipient of a RCPT-state request, as raw bytes.</summary>
    public ReadOnlySpan<byte> Recipient => _recipient.AsSpan(0, _recipientLength);

    /// <summary>The same bytes as <see cref="Recipient"/>, valid until the next request is parsed.</summary>
    public ReadOnlyMemory<byte> RecipientMemory => _recipient.AsMemory(0, _recipientLength);

    /// <summary>Name=value lines in the request.</summary>
    public int AttributeCount { get; private set; }

    /// <summary>Postfix's id tying the requests of one message together.</summary>
    public ReadOnlySpan<byte> Instance => _instance.AsSpan(0, _instanceLength);

    internal void Reset()
    {
        State = ProtocolState.Other;
        IsAccessPolicy = false;
        SaslUsername = null;
        Sender = null;
        RecipientCount = 0;
        Size = 0;
        ClientAddress = null;
        _queueIdLength = 0;
        _recipientLength = 0;
        AttributeCount = 0;
        _instanceLength = 0;
    }

    internal void Set(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        AttributeCount++;
        if (name.SequenceEqual(PolicyAttributes.ProtocolState))
        {
            State = StateOf(value);
        }
        else if (name.SequenceEqual(PolicyAttributes.SaslUsername))
        {
            SaslUsername = value.IsEmpty ? null : _saslUsername.Get(value);
        }
        else if (name.SequenceEqual(PolicyAttributes.Sender))
        {
            Sender = value.IsEmpty ? "" : _sender.Get(value);
        }
        else if (name.SequenceEqual(PolicyAttributes.ClientAddress))
        {
            ClientAddress = value.IsEmpty ? null : _clientAddress.Get(value);
        }
        else if (name.SequenceEqual(PolicyAttributes.RecipientCount))
        {
            RecipientCount = (int)Math.Min(ParseNumber(value), int.MaxValue);
        }
        else if (name.SequenceEqual(PolicyAttributes.Size))
        {
            Size = ParseNumber(value);
        }
        else if (name.SequenceEqual(PolicyAttributes.Instance))
        {
            _instanceLength = Math.Min(value.Length, MaxInstanceBytes);
            value[.._instanceLength].CopyTo(_instance);
        }
        else if (name.SequenceEqual(PolicyAttributes.QueueId))
        {
            _queueIdLength = Math.Min(value.Length, MaxInstanceBytes);
            value[.._queueIdLength].CopyTo(_queueId);
        }
        else if (name.SequenceEqual(PolicyAttributes.Recipient))
        {
            _recipientLength = Math.Min(value.Length, MaxRecipientBytes);
            value[.._recipientLength].CopyTo(_recipient);
        }
        else if (name.SequenceEqual(PolicyAttributes.Request))
        {
            IsAccessPolicy = value.SequenceEqual(PolicyAttributes.SmtpdAccessPolicy);
        }
    }

    private static ProtocolState StateOf(ReadOnlySpan<byte> value) =>
        value.SequenceEqual(PolicyAttributes.StateRcpt) ? ProtocolState.Rcpt
        : value.SequenceEqual(PolicyAttributes.StateData) ? ProtocolState.Data
        : value.SequenceEqual(PolicyAttributes.StateEndOfMessage) ? ProtocolState.EndOfMessage
        : value.SequenceEqual(PolicyAttributes.StateMail) ? ProtocolState.Mail
        : value.SequenceEqual(PolicyAttributes.StateConnect) ? ProtocolState.Connect
        : value.SequenceEqual(PolicyAttributes.StateHelo) ? ProtocolState.Helo
        : value.SequenceEqual(PolicyAttributes.StateEtrn) ? ProtocolState.Etrn
        : value.SequenceEqual(PolicyAttributes.StateVrfy) ? ProtocolState.Vrfy
        : ProtocolState.Other;

    // Postfix sends plain decimal counts; anything else counts as 0 rather than failing the message.
    private static long ParseNumber(ReadOnlySpan<byte> value)
    {
        long n = 0;
        foreach (var b in value)
        {
            if (b is < (byte)'0' or > (byte)'9' || n > long.MaxValue / 10 - 9)
            {
                return 0;
            }

            n = (n * 10) + (b - '0');
        }

        return n;
    }
}
