using Floodgate.Configuration;
using Floodgate.Pipeline;

namespace Floodgate.Policy;

/// <summary>
/// What one policy connection remembers: its parser and request, each rule's counter after the last decision, and
/// the last counted message with its answer (so a message asked about at DATA and again at END-OF-MESSAGE counts once).
/// </summary>
internal sealed class PolicySession
{
    private readonly byte[] _countedInstance = new byte[PolicyRequest.MaxInstanceBytes];
    private readonly byte[] _countedAnswer;
    private int _countedLength = -1;
    private int _countedAnswerLength;

    // The recipients Postfix asked about at RCPT TO for the message in progress (its instance), where a limit needs
    // the addresses: Postfix names them only there, and the message is counted at DATA.
    private readonly byte[] _recipientsInstance = new byte[PolicyRequest.MaxInstanceBytes];
    private int _recipientsInstanceLength = -1;
    private List<string>? _recipients;

    // The one recipient Postfix names itself (at RCPT, and at DATA for a message to one), without allocating on repeats.
    private readonly Utf8StringCache _recipientName = new();
    private readonly string[] _one = new string[1];

    /// <summary>The most addresses remembered for one message (Postfix's smtpd_recipient_limit default); more count as unnamed.</summary>
    public const int MaxRecipients = 1000;

    public PolicySession(PolicyOptions options, DecisionScratch scratch)
    {
        Parser = new PolicyRequestParser(options.MaxRequestBytes, options.MaxAttributes);
        Scratch = scratch;
        _countedAnswer = new byte[scratch.AnswerBuffer.Length];
    }

    public PolicyRequestParser Parser { get; }

    public PolicyRequest Request { get; } = new();

    /// <summary>Each rule's counter after the last decision, and the answer written for it.</summary>
    public DecisionScratch Scratch { get; }

    /// <summary>The request's queue id (empty when Postfix sent none), valid until the next request is parsed.</summary>
    public ReadOnlyMemory<byte> QueueIdMemory => Request.QueueIdMemory;

    /// <summary>The request's recipient (RCPT stage), for incident evidence.</summary>
    public ReadOnlyMemory<byte> RecipientMemory => Request.RecipientMemory;

    /// <summary>The answer already given for this message, when Postfix asks again at END-OF-MESSAGE.</summary>
    public bool TryRepeat(out ReadOnlySpan<byte> answer)
    {
        answer = _countedAnswer.AsSpan(0, _countedAnswerLength);
        return _countedLength >= 0 && !Request.Instance.IsEmpty && Request.State == ProtocolState.EndOfMessage
            && Request.Instance.SequenceEqual(_countedInstance.AsSpan(0, _countedLength));
    }

    /// <summary>Remembers the RCPT-stage request's recipient for its message (a new instance starts a new list).</summary>
    public void RememberRecipient()
    {
        if (Request.Instance.IsEmpty || Request.Recipient.IsEmpty)
        {
            return;
        }

        if (!IsRecipientsInstance())
        {
            Request.Instance.CopyTo(_recipientsInstance);
            _recipientsInstanceLength = Request.Instance.Length;
            (_recipients ??= []).Clear();
        }

        if (_recipients!.Count < MaxRecipients)
        {
            _recipients.Add(_recipientName.Get(Request.Recipient));
        }
    }

    /// <summary>
    /// The addresses of the message this DATA or END-OF-MESSAGE request is about: those remembered at RCPT TO, else the
    /// one recipient Postfix names itself when the message has only one; null when unknown.
    /// </summary>
    public IReadOnlyList<string>? RecipientsOfMessage()
    {
        if (IsRecipientsInstance() && _recipients is { Count: > 0 })
        {
            return [.. _recipients];
        }

        return Request.RecipientCount == 1 ? OneRecipient() : null;
    }

    /// <summary>The request's own recipient attribute as a list of one (reused: valid until the next request); null when absent.</summary>
    public IReadOnlyList<string>? OneRecipient()
    {
        if (Request.Recipient.IsEmpty)
        {
            return null;
        }

        _one[0] = _recipientName.Get(Request.Recipient);
        return _one;
    }

    private bool IsRecipientsInstance() =>
        _recipientsInstanceLength >= 0 && Request.Instance.SequenceEqual(_recipientsInstance.AsSpan(0, _recipientsInstanceLength));

    public void RememberCounted(ReadOnlySpan<byte> answer)
    {
        Request.Instance.CopyTo(_countedInstance);
        _countedLength = Request.Instance.Length;
        answer.CopyTo(_countedAnswer);
        _countedAnswerLength = answer.Length;
    }
}
