using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Pipeline;
using Floodgate.Quarantine;
using MimeKit;

namespace Floodgate.Relay;

/// <summary>
/// Turns a finished relay transaction into a submission for the decision pipeline and acts on its verdict: accepted
/// mail goes to the outbound queue; held mail (a hold limit, or all of a suspended account's) into the quarantine;
/// deferred mail into the quarantine too, as delayed, released by itself once the account's window has room, so the
/// upstream server's queue drains instead of retrying; all three answered 250 once durable on disk. Refused mail is
/// answered 550, and a store that is away (fail mode closed) 451; neither is kept.
/// </summary>
public sealed partial class RelayIntake
{
    private readonly DecisionPipeline _pipeline;
    private readonly EnforcementPoint _point;
    private readonly IOutboundDelivery _outbound;
    private readonly RelayQuarantine _quarantine;
    private readonly RelayOptions _options;
    private readonly ILogger<RelayIntake> _logger;

    public RelayIntake(MessageSpool spool, DecisionPipeline pipeline, EnforcementPoint point, IOutboundDelivery outbound, RelayQuarantine quarantine,
        FloodgateOptions options, ILogger<RelayIntake> logger)
    {
        Spool = spool;
        _pipeline = pipeline;
        _point = point;
        _outbound = outbound;
        _quarantine = quarantine;
        _options = options.Relay;
        _logger = logger;
    }

    public MessageSpool Spool { get; }

    /// <summary>Decides on a received message whose content is in <paramref name="content"/>; returns the SMTP answer.</summary>
    public async Task<string> AcceptAsync(RelayTransaction transaction, SpoolWriter content)
    {
        try
        {
            await content.FinishAsync();
        }
        catch (IOException e)
        {
            LogSpoolFailed(e, transaction.Sender);
            return "451 4.3.0 Local error writing the message; please try again later";
        }

        var headers = ReadHeaders(content.Id);
        var identity = IdentityOf(transaction.Login, transaction.Sender);
        var submission = new Submission(identity, transaction.Sender, transaction.Recipients.Count, content.Length,
            transaction.ClientAddress.ToString(), transaction.ReceivedAt)
        { Recipients = transaction.Recipients, QueueId = content.Id, Subject = headers.Subject, AccountFromSender = CountsBySender(transaction.Login) };
        var scratch = _pipeline.NewScratch(_point);
        var decision = await _pipeline.DecideAsync(_point, submission, DecisionStage.Count, scratch, "DATA");
        var answer = scratch.AnswerText;
        if (decision.Verdict == Verdict.Reject || decision.Cause is DecisionCause.StoreUnavailable || (decision.Cause is DecisionCause.Failed && decision.Verdict != Verdict.Accept))
        {
            return answer;
        }

        var message = new SpooledMessage
        {
            Id = content.Id,
            State = SpoolState.Queued,
            Sender = transaction.Sender,
            Recipients = transaction.Recipients,
            ClientAddress = transaction.ClientAddress.ToString(),
            Helo = transaction.Helo,
            Login = transaction.Login,
            // Observe mode accepts with the would-have identity beside it: accepted mail counts against its account.
            CountedAs = (decision.IsObserved ? null : decision.Identity?.ToString()) ?? (identity is null ? null : new Identity(Scope.Account, identity).ToString()),
            ReceivedAt = transaction.ReceivedAt,
            Size = content.Length,
            Subject = headers.Subject,
            From = headers.From,
            MessageId = headers.MessageId,
        };
        if (decision.Verdict is Verdict.Hold or Verdict.Defer)
        {
            // A message larger than the whole limit would wait for ever: it is held for the admin instead.
            var delayed = decision.Verdict == Verdict.Defer && decision.Units <= decision.Max;
            message = message with
            {
                State = SpoolState.Held,
                HeldFor = (decision.Suspension?.Identity ?? decision.Identity)?.ToString(),
                HeldReason = delayed ? "delayed until the window has room: " + decision.Reason
                    : decision.Verdict == Verdict.Defer ? "held: the message alone adds more than the limit allows in any window: " + decision.Reason
                    : decision.Reason,
                HeldAt = transaction.ReceivedAt,
                Delayed = delayed,
            };
        }

        // The quarantine's quota: past it the sending server keeps the message (451) and tries again, nothing is lost.
        if (message.State == SpoolState.Held && !_quarantine.HasRoom(message.HeldFor ?? message.CountedAs, message.Size, out _))
        {
            return "451 4.3.1 Floodgate's quarantine is full for this sender; please try again later";
        }

        try
        {
            await Spool.CommitAsync(content, message);
        }
        catch (IOException e)
        {
            LogSpoolFailed(e, transaction.Sender);
            return "451 4.3.0 Local error writing the message; please try again later";
        }

        if (message.State == SpoolState.Held)
        {
            await _quarantine.AddAsync(message);
        }
        else
        {
            _outbound.Enqueue(message);
        }

        return answer;
    }

    /// <summary>
    /// Decides again on a delayed message (its window may have room now) as if it were sent now: accepted, it is
    /// counted and goes out; still deferred, it waits; held (the account was suspended meanwhile), it stays held.
    /// </summary>
    public async Task<Verdict> RedecideAsync(SpooledMessage message, DateTimeOffset now)
    {
        var decision = await _pipeline.DecideAsync(_point, SubmissionOf(message, now), DecisionStage.Count, _pipeline.NewScratch(_point), "DELAYED", retry: true);
        return decision.Cause is DecisionCause.StoreUnavailable or DecisionCause.Failed && decision.Verdict != Verdict.Accept ? Verdict.Defer : decision.Verdict;
    }

    /// <summary>
    /// Counts recipients of a spooled message that the next hop refused for good against its sender's failed-recipients
    /// limits (they act on its next message); a failure to count is logged by the pipeline, never thrown.
    /// </summary>
    public ValueTask CountRefusedAsync(SpooledMessage message, int refused, DateTimeOffset now) =>
        _pipeline.CountFailedAsync(_point, SubmissionOf(message, now), refused);

    private Submission SubmissionOf(SpooledMessage message, DateTimeOffset time) =>
        new(IdentityOf(message.Login, message.Sender), message.Sender, message.Recipients.Count, message.Size, message.ClientAddress, time)
        { Recipients = message.Recipients, QueueId = message.Id, Subject = message.Subject, AccountFromSender = CountsBySender(message.Login) };

    // The account is the relay login when the upstream server logs in per user, else the envelope sender; the null
    // sender (a bounce) has none and falls back to the configured identity (the client address by default).
    private string? IdentityOf(string? login, string sender)
    {
        var who = CountsBySender(login) ? sender : login!;
        return who.Length == 0 ? null : IdentityNormalizer.Normalize(who);
    }

    private bool CountsBySender(string? login) => _options.Identity != RelayIdentity.Login || login is null;

    private (string? Subject, string? From, string? MessageId) ReadHeaders(string id)
    {
        try
        {
            using var stream = Spool.OpenContent(id);
            var parser = new MimeParser(stream, MimeFormat.Entity);
            var headers = parser.ParseHeaders();
            return (Cut(headers[HeaderId.Subject]), Cut(headers[HeaderId.From]), Cut(headers[HeaderId.MessageId]));
        }
        catch (FormatException)
        {
            // Content that is not a message still goes through the ledger; it just has no headers to show.
            return (null, null, null);
        }
    }

    private static string? Cut(string? value) => value is null ? null : value.Length <= 200 ? value : value[..200];

    [LoggerMessage(Level = LogLevel.Error, Message = "relay: could not spool a message from <{Sender}>; answered 451")]
    private partial void LogSpoolFailed(Exception e, string sender);

}
