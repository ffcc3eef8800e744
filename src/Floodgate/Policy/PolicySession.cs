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

    public void RememberCounted(ReadOnlySpan<byte> answer)
    {
        Request.Instance.CopyTo(_countedInstance);
        _countedLength = Request.Instance.Length;
        answer.CopyTo(_countedAnswer);
        _countedAnswerLength = answer.Length;
    }
}
