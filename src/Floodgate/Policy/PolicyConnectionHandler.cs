using System.Buffers;
using System.IO.Pipelines;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Pipeline;
using Microsoft.AspNetCore.Connections;

namespace Floodgate.Policy;

/// <summary>
/// Serves the Postfix policy protocol on one endpoint: persistent connections, one answer per request, requests
/// pipelined in one read answered in one write. A broken request closes only its own connection.
/// </summary>
public sealed partial class PolicyConnectionHandler : ConnectionHandler, IDisposable
{
    private readonly DecisionPipeline _pipeline;
    private readonly EnforcementPoint _point;
    private readonly PolicyOptions _options;
    private readonly ILogger _logger;
    private readonly string _endpoint;
    private readonly CancellationToken _stopping;
    private readonly TimeProvider _time;
    private readonly IdleWatch _idleWatch;
    private readonly bool _needsAddresses;
    private long _warnedAt = -600_000;
    private int _connections;

    public PolicyConnectionHandler(DecisionPipeline pipeline, EnforcementPoint point, FloodgateOptions options, TimeProvider time,
        ILogger<PolicyConnectionHandler> logger, string endpoint, CancellationToken stopping = default)
    {
        _pipeline = pipeline;
        _point = point;
        _time = time;
        _idleWatch = new IdleWatch(options.Policy.IdleTimeout, time);
        _stopping = stopping;
        _options = options.Policy;
        _logger = logger;
        _endpoint = endpoint;
        _needsAddresses = pipeline.Rules.NeedsAddresses;
    }

    /// <summary>Connections open on this endpoint now.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public void Dispose() => _idleWatch.Dispose();

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        if (Interlocked.Increment(ref _connections) > _options.MaxConnections)
        {
            Interlocked.Decrement(ref _connections);
            LogTooManyConnections(_endpoint, connection.RemoteEndPoint?.ToString() ?? "local", _options.MaxConnections);
            connection.Abort();
            return;
        }

        try
        {
            await ServeAsync(connection);
        }
        catch (PolicyProtocolException e)
        {
            LogProtocolError(_endpoint, connection.RemoteEndPoint?.ToString() ?? "local", e.Message);
        }
        catch (ConnectionResetException)
        {
            // Postfix closing its end (smtpd exiting) is the ordinary end of a policy connection.
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    private async Task ServeAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var session = new PolicySession(_options, _pipeline.NewScratch(_point));

        // Stopping closes each connection between requests, so Postfix reconnects to the next Floodgate at once
        // instead of talking to this one until the shutdown timeout. Idleness is watched by one timer for all
        // connections rather than a timer per read.
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, _stopping);
        using var watched = _idleWatch.Watch(idle);
        while (true)
        {
            ReadResult read;
            try
            {
                read = await input.ReadAsync(idle.Token);
                watched.Touch();
            }
            catch (OperationCanceledException)
            {
                if (watched.TimedOut)
                {
                    LogIdle(_endpoint, connection.RemoteEndPoint?.ToString() ?? "local", _options.IdleTimeout);
                }

                return;
            }

            var buffer = read.Buffer;
            var answered = false;
            try
            {
                while (session.Parser.TryParse(ref buffer, session.Request))
                {
                    // Decided here rather than in a method of its own: a decision that waits (the journal's fsync, a
                    // Redis round trip) then suspends this connection's one state machine instead of allocating one.
                    if (!session.TryRepeat(out var repeated))
                    {
                        var stage = Decide(session, out var deciding);
                        var decision = await deciding;
                        if (_needsAddresses && session.Request.State == ProtocolState.Rcpt && decision.Verdict == Verdict.Accept)
                        {
                            session.RememberRecipient();
                        }

                        Answer(session, stage, output);
                    }
                    else
                    {
                        output.Write(repeated);
                    }

                    answered = true;
                }

                if (read.IsCompleted && !buffer.IsEmpty)
                {
                    throw new PolicyProtocolException($"connection closed in the middle of a request ({buffer.Length} bytes)");
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (answered)
            {
                var flush = await output.FlushAsync();
                if (flush.IsCompleted)
                {
                    return;
                }
            }

            if (read.IsCompleted)
            {
                return;
            }
        }
    }

    // Starts the decision of the parsed request; Postfix may consult the service at DATA and again at END-OF-MESSAGE
    // for one message, and the caller answers a repeat from the session without deciding (so it counts once).
    private DecisionStage Decide(PolicySession session, out ValueTask<Decision> deciding)
    {
        var request = session.Request;
        var stage = request.State is ProtocolState.Data or ProtocolState.EndOfMessage ? DecisionStage.Count : DecisionStage.Check;
        var submission = new Submission(request.SaslUsername, request.Sender, request.RecipientCount, request.Size,
            request.ClientAddress, _time.GetUtcNow());
        if (_needsAddresses)
        {
            submission = submission with { Recipients = stage == DecisionStage.Count ? RecipientsOf(session) : session.OneRecipient() };
        }

        session.Scratch.QueueId = session.QueueIdMemory;
        deciding = _pipeline.DecideAsync(_point, submission, stage, session.Scratch, StateName(request.State), session.RecipientMemory);
        return stage;
    }

    // The message's addresses as remembered at RCPT TO; without them although policy.rcpt_check says Postfix asks there,
    // a warning now and then.
    private IReadOnlyList<string>? RecipientsOf(PolicySession session)
    {
        var recipients = session.RecipientsOfMessage();
        var now = Environment.TickCount64;
        // Only where the admin said Postfix asks at RCPT (policy.rcpt_check): otherwise check-config has said what it costs.
        if (recipients is null && _options.RcptCheck && session.Request.RecipientCount > 1 && now - Volatile.Read(ref _warnedAt) > 600_000)
        {
            Volatile.Write(ref _warnedAt, now);
            LogNoRecipients(_endpoint, session.Request.RecipientCount);
        }

        return recipients;
    }

    // Writes the answer the pipeline rendered into the session's scratch.
    private static void Answer(PolicySession session, DecisionStage stage, PipeWriter output)
    {
        var answer = session.Scratch.Answer;
        if (stage == DecisionStage.Count)
        {
            session.RememberCounted(answer);
        }

        output.Write(answer);
    }

    private static string StateName(ProtocolState state) => state switch
    {
        ProtocolState.Rcpt => "RCPT",
        ProtocolState.Data => "DATA",
        ProtocolState.EndOfMessage => "END-OF-MESSAGE",
        ProtocolState.Mail => "MAIL",
        ProtocolState.Connect => "CONNECT",
        ProtocolState.Helo => "HELO",
        ProtocolState.Etrn => "ETRN",
        ProtocolState.Vrfy => "VRFY",
        _ => "other",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "policy {Endpoint}: closing connection from {Remote}: {Problem}")]
    private partial void LogProtocolError(string endpoint, string remote, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "policy {Endpoint}: a message of {Count} recipients reached DATA without Postfix asking at RCPT TO, although policy.rcpt_check is true: "
        + "unique and external recipient limits count each of its recipients as new and external. Check that deploy/postfix/main.cf.rcpt is in main.cf (logged at most every 10 minutes)")]
    private partial void LogNoRecipients(string endpoint, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "policy {Endpoint}: closing idle connection from {Remote} after {Idle}")]
    private partial void LogIdle(string endpoint, string remote, TimeSpan idle);

    [LoggerMessage(Level = LogLevel.Warning, Message = "policy {Endpoint}: refusing connection from {Remote}: {Max} connections already open")]
    private partial void LogTooManyConnections(string endpoint, string remote, int max);
}
