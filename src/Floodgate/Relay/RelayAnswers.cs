using System.Text;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Pipeline;
using Floodgate.Policy;

namespace Floodgate.Relay;

/// <summary>
/// Turns verdicts into the relay's SMTP replies with the same configured texts (and the same templates) as the
/// policy service's answers: 250 for accepted and held mail (held mail is kept in the quarantine), 451 for a store
/// that is away, 550 for refused mail. A deferred message is held until its window has room (see the README).
/// </summary>
public sealed class RelayAnswers : IVerdictRenderer
{
    private static readonly byte[] Queued = Encoding.ASCII.GetBytes("250 2.0.0 Ok: queued as ");
    private readonly AnswerTemplate _reject;
    private readonly AnswerTemplate _tooMany = new("550", PolicyOptions.TooManyRecipientsText);
    private readonly AnswerTemplate _unavailable;

    public RelayAnswers(PolicyOptions options)
    {
        _reject = new AnswerTemplate("550", options.RejectText);
        _unavailable = new AnswerTemplate("451", PolicyAnswers.StoreUnavailableText);
        MaxAnswerBytes = Math.Max(Queued.Length + 64, Math.Max(Math.Max(_reject.MaxBytes, _tooMany.MaxBytes), _unavailable.MaxBytes));
    }

    public int MaxAnswerBytes { get; }

    public int Render(in Submission submission, in Decision decision, Span<byte> destination, out Range action)
    {
        var length = decision.Verdict switch
        {
            Verdict.Accept or Verdict.Hold => QueuedAs(submission.QueueId, destination),
            Verdict.Reject when decision.Cause == DecisionCause.TooManyRecipients => _tooMany.Render(destination, Identity(decision), decision.Rule),
            Verdict.Reject => _reject.Render(destination, Identity(decision), decision.Rule),
            _ when decision.Cause is DecisionCause.StoreUnavailable or DecisionCause.Failed => _unavailable.Render(destination, "", null),
            _ => QueuedAs(submission.QueueId, destination),
        };

        // SMTP replies are one line: a configured text with a line break in it would end the reply early.
        foreach (ref var b in destination[..length])
        {
            if (b is (byte)'\r' or (byte)'\n')
            {
                b = (byte)' ';
            }
        }

        action = ..length;
        return length;
    }

    private static int QueuedAs(string? id, Span<byte> destination)
    {
        Queued.CopyTo(destination);
        var n = Queued.Length;
        var value = id ?? "";
        n += Encoding.ASCII.GetBytes(value.AsSpan(0, Math.Min(value.Length, 64)), destination[n..]);
        return n;
    }

    private static string Identity(in Decision decision) => (decision.Suspension?.Identity ?? decision.Identity)?.Key ?? "this sender";
}
