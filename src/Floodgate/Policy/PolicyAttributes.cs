namespace Floodgate.Policy;

/// <summary>The attribute names and values of the Postfix policy protocol that Floodgate reads or writes.</summary>
internal static class PolicyAttributes
{
    public static ReadOnlySpan<byte> Request => "request"u8;

    public static ReadOnlySpan<byte> SmtpdAccessPolicy => "smtpd_access_policy"u8;

    public static ReadOnlySpan<byte> ProtocolState => "protocol_state"u8;

    public static ReadOnlySpan<byte> SaslUsername => "sasl_username"u8;

    public static ReadOnlySpan<byte> Sender => "sender"u8;

    public static ReadOnlySpan<byte> RecipientCount => "recipient_count"u8;

    public static ReadOnlySpan<byte> Size => "size"u8;

    public static ReadOnlySpan<byte> ClientAddress => "client_address"u8;

    public static ReadOnlySpan<byte> Instance => "instance"u8;

    public static ReadOnlySpan<byte> QueueId => "queue_id"u8;

    public static ReadOnlySpan<byte> Recipient => "recipient"u8;

    public static ReadOnlySpan<byte> StateRcpt => "RCPT"u8;

    public static ReadOnlySpan<byte> StateData => "DATA"u8;

    public static ReadOnlySpan<byte> StateEndOfMessage => "END-OF-MESSAGE"u8;

    public static ReadOnlySpan<byte> StateConnect => "CONNECT"u8;

    public static ReadOnlySpan<byte> StateHelo => "HELO"u8;

    public static ReadOnlySpan<byte> StateMail => "MAIL"u8;

    public static ReadOnlySpan<byte> StateEtrn => "ETRN"u8;

    public static ReadOnlySpan<byte> StateVrfy => "VRFY"u8;

    public static ReadOnlySpan<byte> ActionPrefix => "action="u8;

    public static ReadOnlySpan<byte> DunnoAnswer => "action=DUNNO\n\n"u8;

    public static ReadOnlySpan<byte> FailClosedAnswer => "action=DEFER_IF_PERMIT 4.3.0 Policy service temporarily unavailable\n\n"u8;
}
