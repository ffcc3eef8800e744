using Floodgate.Configuration;
using Floodgate.Engine;

namespace Floodgate.Policy;

/// <summary>
/// What one policy connection remembers: its parser and request, the last counted message (so a message asked about
/// at DATA and again at END-OF-MESSAGE counts once) and the last refusal's answer (so a flood of refusals for one
/// identity formats its text once).
/// </summary>
internal sealed class PolicySession
{
    private readonly byte[] _countedInstance = new byte[PolicyRequest.MaxInstanceBytes];
    private int _countedLength = -1;
    private string _countedAction = "";
    private AnswerKey _lastKey;
    private string _lastAction = "";

    public PolicySession(PolicyOptions options, int rules)
    {
        Parser = new PolicyRequestParser(options.MaxRequestBytes, options.MaxAttributes);
        Counts = new long[rules];
    }

    public PolicyRequestParser Parser { get; }

    public PolicyRequest Request { get; } = new();

    /// <summary>Each rule's counter after the last decision.</summary>
    public long[] Counts { get; }

    /// <summary>The answer already given for this message, when Postfix asks again at END-OF-MESSAGE.</summary>
    public bool TryRepeat(out string action)
    {
        action = _countedAction;
        return _countedLength >= 0 && !Request.Instance.IsEmpty && Request.State == ProtocolState.EndOfMessage
            && Request.Instance.SequenceEqual(_countedInstance.AsSpan(0, _countedLength));
    }

    public void RememberCounted(string action)
    {
        Request.Instance.CopyTo(_countedInstance);
        _countedLength = Request.Instance.Length;
        _countedAction = action;
    }

    /// <summary>The action for a decision, reusing the previous text when verdict, rule and identity repeat.</summary>
    public string ActionFor(PolicyAnswers answers, in Decision decision)
    {
        if (decision.Verdict == Verdict.Accept)
        {
            return answers.ActionFor(decision);
        }

        var key = new AnswerKey(decision.Verdict, decision.Rule, decision.Suspension?.Identity.Key ?? decision.Identity?.Key);
        if (!key.Equals(_lastKey))
        {
            _lastKey = key;
            _lastAction = answers.ActionFor(decision);
        }

        return _lastAction;
    }

    private readonly record struct AnswerKey(Verdict Verdict, LimitRule? Rule, string? Identity);
}
