using System.Text;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Incidents;
using Floodgate.Quarantine;
using MimeKit;

namespace Floodgate.Relay;

/// <summary>
/// Turns a finished relay transaction into a decision and acts on it: accepted mail goes to the outbound queue, held
/// mail (and all of a suspended account's) into the quarantine, both answered 250 once durable on disk; deferred and
/// refused mail is answered 451 or 550 and not kept.
/// </summary>
public sealed partial class RelayIntake
{
    private readonly DecisionEngine _engine;
    private readonly IOutboundDelivery _outbound;
    private readonly RelayQuarantine _quarantine;
    private readonly Containment? _containment;
    private readonly DecisionLog _log;
    private readonly RelayOptions _options;
    private readonly FloodgateOptions _floodgate;
    private readonly ILogger<RelayIntake> _logger;
    private readonly Admin.TrafficHistory? _traffic;

    public RelayIntake(MessageSpool spool, DecisionEngine engine, IOutboundDelivery outbound, RelayQuarantine quarantine, Containment? containment,
        DecisionLog log, FloodgateOptions options, ILogger<RelayIntake> logger, Admin.TrafficHistory? traffic = null)
    {
        _traffic = traffic;
        Spool = spool;
        _engine = engine;
        _outbound = outbound;
        _quarantine = quarantine;
        _containment = containment;
        _log = log;
        _floodgate = options;
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
        var identity = IdentityOf(transaction);
        var submission = new Submission(identity, transaction.Sender, transaction.Recipients.Count, content.Length,
            transaction.ClientAddress.ToString(), transaction.ReceivedAt)
        { Recipients = transaction.Recipients };
        var counts = new long[_engine.Rules.Rules.Count];
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Decision decision;
        try
        {
            decision = await _engine.DecideAsync(submission, DecisionStage.Count, counts);
        }
        catch (Exception e)
        {
            // What the deployment chose for internal failures: open lets the mail through, closed asks to retry.
            LogDecisionFailed(e, identity ?? transaction.Sender);
            if (_floodgate.FailMode == FailMode.Closed)
            {
                return "451 4.3.0 Temporary local problem; please try again later";
            }

            decision = new Decision(Verdict.Accept, DecisionCause.WithinLimits);
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
            CountedAs = decision.Identity?.ToString() ?? (identity is null ? null : new Identity(Scope.Account, identity).ToString()),
            ReceivedAt = transaction.ReceivedAt,
            Size = content.Length,
            Subject = headers.Subject,
            From = headers.From,
            MessageId = headers.MessageId,
        };
        var answer = decision.Verdict switch
        {
            Verdict.Accept => $"250 2.0.0 Ok: queued as {content.Id}",
            Verdict.Hold => $"250 2.0.0 Ok: queued as {content.Id}",
            Verdict.Defer => "451 " + Render(_floodgate.Policy.DeferText, decision),
            _ => "550 " + Render(_floodgate.Policy.RejectText, decision),
        };
        _log.Write("relay", submission, decision, counts, _engine.Rules, "DATA", decision.Verdict switch
        {
            Verdict.Accept => "queued " + content.Id,
            Verdict.Hold => "held " + content.Id,
            _ => answer,
        });
        _traffic?.Record("relay", submission, decision, DecisionStage.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        try
        {
            _containment?.Observe(submission, decision, DecisionStage.Count, default, default, counts, headers.Subject);
        }
        catch (Exception e)
        {
            LogEvidenceFailed(e);
        }

        if (decision.Verdict is Verdict.Defer or Verdict.Reject)
        {
            return answer;
        }

        if (decision.Verdict == Verdict.Hold)
        {
            message = message with
            {
                State = SpoolState.Held,
                HeldFor = (decision.Suspension?.Identity ?? decision.Identity)?.ToString(),
                HeldReason = decision.Reason,
                HeldAt = transaction.ReceivedAt,
            };
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

    // The account is the relay login when the upstream server logs in per user, else the envelope sender; the null
    // sender (a bounce) has none and falls back to the configured identity (the client address by default).
    private string? IdentityOf(RelayTransaction transaction)
    {
        var who = _options.Identity == RelayIdentity.Login && transaction.Login is { } login ? login : transaction.Sender;
        return who.Length == 0 ? null : IdentityNormalizer.Normalize(who);
    }

    private static string Render(string template, in Decision decision)
    {
        var text = new StringBuilder(template)
            .Replace("{identity}", (decision.Suspension?.Identity ?? decision.Identity)?.Key ?? "this sender")
            .Replace("{rule}", decision.Rule?.Name ?? "suspended")
            .Replace("{window}", decision.Rule?.WindowText ?? "")
            .ToString();
        return text.ReplaceLineEndings(" ");
    }

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

    [LoggerMessage(Level = LogLevel.Error, Message = "relay: decision failed for {Identity}; answered by fail mode")]
    private partial void LogDecisionFailed(Exception e, string identity);

    [LoggerMessage(Level = LogLevel.Error, Message = "relay: could not record incident evidence")]
    private partial void LogEvidenceFailed(Exception e);
}
