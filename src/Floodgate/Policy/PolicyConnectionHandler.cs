using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Floodgate.Admin;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Floodgate.Incidents;
using Microsoft.AspNetCore.Connections;

namespace Floodgate.Policy;

/// <summary>
/// Serves the Postfix policy protocol on one endpoint: persistent connections, one answer per request, requests
/// pipelined in one read answered in one write. A broken request closes only its own connection.
/// </summary>
public sealed partial class PolicyConnectionHandler : ConnectionHandler, IDisposable
{
    private readonly DecisionEngine _engine;
    private readonly PolicyOptions _options;
    private readonly PolicyAnswers _answers;
    private readonly DecisionLog _log;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _endpoint;
    private readonly CancellationToken _stopping;
    private int _connections;

    private readonly Containment? _containment;
    private readonly TrafficHistory? _traffic;
    private readonly IdleWatch _idleWatch;

    public PolicyConnectionHandler(DecisionEngine engine, FloodgateOptions options, DecisionLog log, TimeProvider time,
        ILogger<PolicyConnectionHandler> logger, string endpoint, Containment? containment = null, TrafficHistory? traffic = null,
        CancellationToken stopping = default)
    {
        _containment = containment;
        _traffic = traffic;
        _idleWatch = new IdleWatch(options.Policy.IdleTimeout, time);
        _stopping = stopping;
        _engine = engine;
        _options = options.Policy;
        _answers = new PolicyAnswers(options.Policy, options.FailMode);
        _log = log;
        _time = time;
        _logger = logger;
        _endpoint = endpoint;
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
        var session = new PolicySession(_options, _engine.Rules.Rules.Count, _answers.MaxAnswerBytes);

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
                    await AnswerAsync(session, output);
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

    private async ValueTask AnswerAsync(PolicySession session, PipeWriter output)
    {
        var request = session.Request;

        // Postfix may consult the service at DATA and again at END-OF-MESSAGE for one message: count it once.
        if (session.TryRepeat(out var repeated))
        {
            output.Write(repeated);
            return;
        }

        var stage = request.State is ProtocolState.Data or ProtocolState.EndOfMessage ? DecisionStage.Count : DecisionStage.Check;
        var submission = new Submission(request.SaslUsername, request.Sender, request.RecipientCount, request.Size,
            request.ClientAddress, _time.GetUtcNow());
        Decision decision;
        var started = Stopwatch.GetTimestamp();
        try
        {
            decision = await _engine.DecideAsync(submission, stage, session.Counts);
        }
        catch (StoreUnavailableException)
        {
            // The shared store is away and the deployment fails closed; the store logs the outage once, not per request.
            output.Write(PolicyAttributes.FailClosedAnswer);
            return;
        }
        catch (Exception e)
        {
            LogDecisionFailed(e, _endpoint, request.SaslUsername ?? request.Sender ?? "-");
            output.Write(_answers.Failure);
            return;
        }

        _traffic?.Record("policy", submission, decision, stage, Stopwatch.GetElapsedTime(started));
        var span = output.GetSpan(_answers.MaxAnswerBytes);
        var length = _answers.Format(span, decision);
        var answer = span[..length];
        if (stage == DecisionStage.Count)
        {
            session.RememberCounted(answer);
        }

        try
        {
            var action = answer[PolicyAttributes.ActionPrefix.Length..^2];
            _log.Write("policy", submission, decision, session.Counts, _engine.Rules, StateName(request.State), action);
        }
        catch (Exception e)
        {
            // The decision stands (it may have been counted); only its log line is lost.
            LogDecisionLogFailed(e, _endpoint);
        }

        output.Advance(length);

        try
        {
            _containment?.Observe(submission, decision, stage, request.QueueId, request.Recipient, session.Counts);
        }
        catch (Exception e)
        {
            // The answer is written; a failure to record evidence must not change it.
            LogIncidentFailed(e, _endpoint);
        }

        if (decision.NewlySuspended)
        {
            LogSuspended(decision.Suspension!.Identity.ToString(), decision.Rule?.Name ?? "-", decision.Reason);
        }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "policy {Endpoint}: closing idle connection from {Remote} after {Idle}")]
    private partial void LogIdle(string endpoint, string remote, TimeSpan idle);

    [LoggerMessage(Level = LogLevel.Warning, Message = "policy {Endpoint}: refusing connection from {Remote}: {Max} connections already open")]
    private partial void LogTooManyConnections(string endpoint, string remote, int max);

    [LoggerMessage(Level = LogLevel.Error, Message = "policy {Endpoint}: decision for {Identity} failed; answering the configured fail mode")]
    private partial void LogDecisionFailed(Exception e, string endpoint, string identity);

    [LoggerMessage(Level = LogLevel.Error, Message = "policy {Endpoint}: recording the incident evidence failed")]
    private partial void LogIncidentFailed(Exception e, string endpoint);

    [LoggerMessage(Level = LogLevel.Error, Message = "policy {Endpoint}: writing a decision line failed")]
    private partial void LogDecisionLogFailed(Exception e, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SUSPENDED {Identity} by rule {Rule}: {Reason}")]
    private partial void LogSuspended(string identity, string rule, string reason);
}
