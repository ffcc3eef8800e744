using System.Buffers;
using System.Text;
using Floodgate.Configuration;
using Floodgate.Engine;

namespace Floodgate.Policy;

/// <summary>Turns verdicts into policy answers: DUNNO, DEFER_IF_PERMIT, HOLD or a 550 reply, with the configured texts.</summary>
public sealed class PolicyAnswers : Pipeline.IVerdictRenderer
{
    private readonly PolicyOptions _options;
    private readonly byte[] _failAnswer;
    private readonly AnswerTemplate _defer;
    private readonly AnswerTemplate _hold;
    private readonly AnswerTemplate _reject;
    private readonly AnswerTemplate _tooMany = new("550", PolicyOptions.TooManyRecipientsText);
    private readonly AnswerTemplate _storeUnavailable;

    public PolicyAnswers(PolicyOptions options, FailMode failMode)
    {
        _options = options;
        _failAnswer = failMode == FailMode.Open ? PolicyAttributes.DunnoAnswer.ToArray() : PolicyAttributes.FailClosedAnswer.ToArray();
        _defer = new AnswerTemplate("DEFER_IF_PERMIT", options.DeferText);
        _hold = new AnswerTemplate("HOLD", options.HoldText);
        _reject = new AnswerTemplate("550", options.RejectText);
        _storeUnavailable = new AnswerTemplate("DEFER_IF_PERMIT", StoreUnavailableText);
        // Every answer Format can write, the fail-mode ones included, however short the configured texts are.
        MaxAnswerBytes = Math.Max(_failAnswer.Length, PolicyAttributes.ActionPrefix.Length
            + Math.Max(Math.Max(_defer.MaxBytes, _storeUnavailable.MaxBytes), Math.Max(_hold.MaxBytes, Math.Max(_reject.MaxBytes, _tooMany.MaxBytes))) + 2);
    }

    /// <summary>The most bytes <see cref="Format"/> writes.</summary>
    public int MaxAnswerBytes { get; }

    /// <summary>
    /// Writes the whole answer, "action=...\n\n", for a decision into <paramref name="destination"/> (at least
    /// <see cref="MaxAnswerBytes"/> long) and returns its length; the action is the bytes between "action=" and "\n\n".
    /// </summary>
    public int Format(Span<byte> destination, in Decision decision)
    {
        if (decision.Cause == DecisionCause.Failed)
        {
            _failAnswer.CopyTo(destination);
            return _failAnswer.Length;
        }

        if (decision.Verdict == Verdict.Accept)
        {
            PolicyAttributes.DunnoAnswer.CopyTo(destination);
            return PolicyAttributes.DunnoAnswer.Length;
        }

        var template = decision.Verdict switch
        {
            _ when decision.Cause == DecisionCause.StoreUnavailable => _storeUnavailable,
            _ when decision.Cause == DecisionCause.TooManyRecipients => _tooMany,
            Verdict.Defer => _defer,
            Verdict.Hold => _hold,
            _ => _reject,
        };
        PolicyAttributes.ActionPrefix.CopyTo(destination);
        var n = PolicyAttributes.ActionPrefix.Length;
        n += template.Render(destination[n..], IdentityOf(decision), decision.Rule);
        destination[n++] = (byte)'\n';
        destination[n++] = (byte)'\n';
        return n;
    }

    private const string Dunno = "DUNNO";

    /// <summary>What a client is told while the shared store is away and the deployment fails closed.</summary>
    public const string StoreUnavailableText = "4.3.0 Policy service temporarily unavailable";

    /// <inheritdoc/>
    public int Render(in Submission submission, in Decision decision, Span<byte> destination, out Range action)
    {
        var length = Format(destination, decision);
        action = PolicyAttributes.ActionPrefix.Length..(length - 2);
        return length;
    }

    /// <summary>The answer written when a decision fails inside Floodgate.</summary>
    public ReadOnlySpan<byte> Failure => _failAnswer;

    /// <summary>The action (without "action=") for a decision, as a string: what <see cref="Format"/> writes.</summary>
    public string ActionFor(in Decision decision)
    {
        if (decision.Verdict == Verdict.Accept)
        {
            return Dunno;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxAnswerBytes);
        try
        {
            var n = Format(buffer, decision);
            return Encoding.UTF8.GetString(buffer, PolicyAttributes.ActionPrefix.Length, n - PolicyAttributes.ActionPrefix.Length - 2);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string IdentityOf(in Decision decision) => decision.Suspension?.Identity.Key ?? decision.Identity?.Key ?? "this sender";
}
