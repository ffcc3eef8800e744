using System.Diagnostics;
using Floodgate.Admin;
using Floodgate.Behaviour;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Incidents;

namespace Floodgate.Pipeline;

/// <summary>
/// The one owner of "a submission was decided", whichever enforcement point it came from: who the sender is and how
/// far to trust it, the engine, the fail modes (the shared store's included), the answer in the point's protocol,
/// the decision log, traffic history and metrics, incident evidence and the record of held mail. A listener only
/// parses its protocol into a <see cref="Submission"/> and writes out the answer this returns.
/// </summary>
public sealed partial class DecisionPipeline
{
    private readonly DecisionEngine _engine;
    private readonly FailMode _failMode;
    private readonly DecisionLog _log;
    private readonly TrafficHistory? _traffic;
    private readonly IncidentBook? _incidents;
    private readonly LimitWarnings? _warnings;
    private readonly ILogger<DecisionPipeline> _logger;
    private readonly BehaviourWatch? _behaviour;

    public DecisionPipeline(DecisionEngine engine, FloodgateOptions options, DecisionLog log, ILogger<DecisionPipeline> logger,
        TrafficHistory? traffic = null, IncidentBook? incidents = null, LimitWarnings? warnings = null, BehaviourWatch? behaviour = null)
    {
        _behaviour = behaviour;
        _warnings = warnings;
        _engine = engine;
        _failMode = options.FailMode;
        _log = log;
        _traffic = traffic;
        _incidents = incidents;
        _logger = logger;
    }

    /// <summary>Each account's profile and score, when behaviour is on.</summary>
    public BehaviourWatch? Behaviour => _behaviour;

    /// <summary>The rules every decision is made by.</summary>
    public RuleSet Rules => _engine.Rules;

    /// <summary>A scratch sized for this pipeline's rules and <paramref name="point"/>'s answers.</summary>
    public DecisionScratch NewScratch(EnforcementPoint point) => new(_engine.Rules.Rules.Count, point.Renderer.MaxAnswerBytes);

    /// <summary>
    /// Decides one submission from <paramref name="point"/> and writes its answer into <paramref name="scratch"/>.
    /// At <see cref="DecisionStage.Count"/> an accepted message is counted. <paramref name="state"/> names the
    /// protocol stage in the decision log; <paramref name="recipient"/> is the one recipient of an RCPT-stage check.
    /// A <paramref name="retry"/> of a message already deferred (the relay's delayed mail) that is deferred again is
    /// not reported again: no log line, no traffic, no metric.
    /// </summary>
    public async ValueTask<Decision> DecideAsync(EnforcementPoint point, Submission submission, DecisionStage stage, DecisionScratch scratch,
        string state, ReadOnlyMemory<byte> recipient = default, bool retry = false)
    {
        // A point that counts the envelope sender as the account has vouched for the client (the relay lets in only
        // relay.networks and logged-in clients); everyone else without a login is trusted as far as the networks say.
        if (!submission.HasLogin && !submission.AccountFromSender)
        {
            submission = submission with { Trust = point.Trusts(submission.ClientAddress) ? ClientTrust.Trusted : ClientTrust.Untrusted };
        }

        var started = Stopwatch.GetTimestamp();
        Decision decision;
        try
        {
            decision = await _engine.DecideAsync(submission, stage, scratch.Counts);
        }
        catch (StoreUnavailableException)
        {
            // The shared store is away and the deployment fails closed; the store logs the outage once, not per request.
            scratch.Counts.AsSpan().Fill(-1);
            decision = new Decision(Verdict.Defer, DecisionCause.StoreUnavailable);
        }
        catch (Exception e)
        {
            LogDecisionFailed(e, point.Name, submission.Account ?? submission.Sender ?? "-");
            scratch.Counts.AsSpan().Fill(-1);
            decision = new Decision(_failMode == FailMode.Open ? Verdict.Accept : Verdict.Defer, DecisionCause.Failed);
        }

        // Behaviour comes after the static limits: a message they refuse (or a retry of one) is not the account's sending.
        if (_behaviour is not null && !retry && decision.Verdict == Verdict.Accept && decision.Cause == DecisionCause.WithinLimits)
        {
            decision = await BehaviourAsync(submission, stage, recipient, decision, point.Name);
        }

        if (decision.Verdict != Verdict.Accept && submission.QueueId is null && !scratch.QueueId.IsEmpty)
        {
            submission = submission with { QueueId = System.Text.Encoding.UTF8.GetString(scratch.QueueId.Span) };
        }

        var length = point.Renderer.Render(submission, decision, scratch.AnswerBuffer, out var action);
        scratch.Answered(length);
        if (retry && decision.Verdict == Verdict.Defer)
        {
            return decision;
        }

        _traffic?.Record(point.Name, submission, decision, stage, Stopwatch.GetElapsedTime(started));
        try
        {
            _log.Write(point.Name, submission, decision, scratch.Counts, _engine.Rules, state, scratch.Answer[action], scratch.QueueId.Span);
        }
        catch (Exception e)
        {
            // The decision stands (it may have been counted); only its log line is lost.
            LogDecisionLogFailed(e, point.Name);
        }

        try
        {
            _warnings?.Observe(submission, decision, scratch.Counts);
        }
        catch (Exception e)
        {
            LogIncidentFailed(e, point.Name);
        }

        if (decision.Verdict == Verdict.Accept)
        {
            if (decision.WouldSuspend)
            {
                try
                {
                    _incidents?.Observe(submission, decision, stage, recipient.Span, scratch.Counts);
                }
                catch (Exception e)
                {
                    LogIncidentFailed(e, point.Name);
                }
            }

            return decision;
        }

        try
        {
            // Postfix holds the whole message whichever stage answered HOLD; the queue id ties the answers together.
            if (decision.Verdict == Verdict.Hold && submission.QueueId is not null)
            {
                point.HoldQueue?.Held(submission, decision, point.Name);
            }

            _incidents?.Observe(submission, decision, stage, recipient.Span, scratch.Counts);
        }
        catch (Exception e)
        {
            // The answer is decided; a failure to record evidence must not change it.
            LogIncidentFailed(e, point.Name);
        }

        if (decision.NewlySuspended)
        {
            LogSuspended(decision.Suspension!.Identity.ToString(), decision.Rule?.Name ?? decision.Suspension.Rule ?? "-", decision.Reason);
        }

        return decision;
    }

    /// <summary>
    /// Counts <paramref name="failed"/> recipients of a message from <paramref name="point"/> that failed for good (a next
    /// hop's 5xx, a log's bounce) against its identities' failed-recipients limits; a failure is logged, never thrown.
    /// </summary>
    public async ValueTask CountFailedAsync(EnforcementPoint point, Submission submission, int failed)
    {
        if (!_engine.Rules.UsesFailedRecipients || failed <= 0)
        {
            return;
        }

        if (!submission.HasLogin && !submission.AccountFromSender)
        {
            submission = submission with { Trust = point.Trusts(submission.ClientAddress) ? ClientTrust.Trusted : ClientTrust.Untrusted };
        }

        try
        {
            await _engine.CountFailedAsync(submission, failed);
        }
        catch (Exception e)
        {
            LogCountFailedFailed(e, point.Name, failed, submission.Account ?? submission.Sender ?? "-");
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Point}: counting {Failed} failed recipients for {Identity} failed")]
    private partial void LogCountFailedFailed(Exception e, string point, int failed, string identity);

    // The account's profile learns the message, scores it and may hold it (probation) or suspend the account; a failure
    // here leaves the static limits' decision standing.
    private async ValueTask<Decision> BehaviourAsync(Submission submission, DecisionStage stage, ReadOnlyMemory<byte> recipient, Decision decision, string point)
    {
        try
        {
            if (string.IsNullOrEmpty(submission.Account))
            {
                return decision;
            }

            if (stage == DecisionStage.Check)
            {
                if (!recipient.IsEmpty)
                {
                    _behaviour!.NoteRecipient(submission.Account, recipient.Span, submission.Time);
                }

                return decision;
            }

            if (_behaviour!.Decide(submission) is not { } found)
            {
                return decision;
            }

            var observe = !_engine.IgnoresModes && _engine.Rules.Mode == EnforcementMode.Observe;
            var identity = new Identity(Scope.Account, found.Account);
            if (!found.Suspends)
            {
                if (found.Started)
                {
                    LogProbation(found.Account, observe ? " (observe mode: not enforced)" : "", found.Reason);
                }

                var held = new Decision(Verdict.Hold, DecisionCause.Probation, Identity: identity) { Behaviour = found };
                return observe ? held with { Verdict = Verdict.Accept, Observed = Verdict.Hold } : held;
            }

            var suspension = new Suspension(identity, submission.Time, BehaviourRule, found.Reason, "floodgate");
            var suspended = new Decision(_engine.Rules.SuspendedVerdict, DecisionCause.Behaviour, Identity: identity, Suspension: suspension) { Behaviour = found };
            if (observe || _behaviour.Accounts is not { } accounts)
            {
                return suspended with { Verdict = Verdict.Accept, Observed = _engine.Rules.SuspendedVerdict };
            }

            return suspended with { NewlySuspended = await accounts.SuspendAsync(suspension) };
        }
        catch (Exception e)
        {
            LogBehaviourFailed(e, point);
            return decision;
        }
    }

    /// <summary>The rule name behaviour's suspensions and holds carry.</summary>
    public const string BehaviourRule = "behaviour";

    [LoggerMessage(Level = LogLevel.Warning, Message = "PROBATION {Account}{Observe}: its new mail is held: {Reason}")]
    private partial void LogProbation(string account, string observe, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Point}: the behaviour profile failed; the limits' decision stands")]
    private partial void LogBehaviourFailed(Exception e, string point);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Point}: decision for {Identity} failed; answering the configured fail mode")]
    private partial void LogDecisionFailed(Exception e, string point, string identity);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Point}: recording the incident evidence or the held message failed")]
    private partial void LogIncidentFailed(Exception e, string point);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Point}: writing a decision line failed")]
    private partial void LogDecisionLogFailed(Exception e, string point);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SUSPENDED {Identity} by rule {Rule}: {Reason}")]
    private partial void LogSuspended(string identity, string rule, string reason);
}
