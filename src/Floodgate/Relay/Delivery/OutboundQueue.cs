using System.Text;
using System.Threading.Channels;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Floodgate.Relay.Delivery;

/// <summary>
/// The durable outbound queue: delivers spooled messages to the next hop over reused MailKit connections, retries
/// what the next hop defers (or cannot take because it is down) with exponential backoff, and returns what it refuses
/// or what outlives <see cref="NextHopOptions.MaxAge"/> to the sender in an RFC 3464 delivery status notification.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue: the relay's outbound mail queue, the name mail admins know.")]
public sealed partial class OutboundQueue : IOutboundDelivery, IHostedService, IAsyncDisposable
{
    // A connection idle this long is checked with NOOP before reuse; idle longer still, it is closed (QUIT), as next
    // hops close idle clients anyway (Postfix's smtpd after 300 s).
    private static readonly TimeSpan ProbeAfterIdle = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan CloseAfterIdle = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan MaxSleep = TimeSpan.FromHours(1);

    private readonly MessageSpool _spool;
    private readonly NextHopOptions _options;
    private readonly string _hostname;
    private readonly TimeProvider _time;
    private readonly ILogger<OutboundQueue> _logger;
    private readonly Lock _gate = new();
    private readonly PriorityQueue<SpooledMessage, DateTimeOffset> _waiting = new();
    private readonly Channel<SpooledMessage> _ready = Channel.CreateUnbounded<SpooledMessage>();
    private readonly SemaphoreSlim _wake = new(0);
    private CancellationTokenSource? _stopping;
    private Task[] _running = [];
    private int _depth;
    private HopState _hop = HopState.Up;
    private DateTimeOffset _hopRetryAt;
    private int _hopFailures;

    public OutboundQueue(MessageSpool spool, NextHopOptions options, string hostname, TimeProvider time, ILogger<OutboundQueue> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Concurrency, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.RetryDelay, TimeSpan.Zero);
        _spool = spool;
        _options = options;
        _hostname = hostname;
        _time = time;
        _logger = logger;
    }

    private enum HopState
    {
        Up,

        // Connecting failed: nothing is tried before _hopRetryAt.
        Down,

        // _hopRetryAt has passed and one message is finding out whether the next hop is back.
        Probing,
    }

    /// <summary>Messages waiting for delivery or in flight.</summary>
    private int _disposed;

    public int Depth => Volatile.Read(ref _depth);

    /// <summary>Raised when the next hop refuses recipients for good (5xx); handlers must be quick and must not throw.</summary>
    public event Action<SpooledMessage, IReadOnlyList<RecipientFailure>>? RecipientsRefused;

    private string NextHop => $"{_options.Host}:{_options.Port}";

    /// <summary>Queues a message already durable in the spool in state Queued (new, recovered at start, or released from quarantine).</summary>
    public void Enqueue(SpooledMessage message)
    {
        Interlocked.Increment(ref _depth);
        Park(message);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_stopping is not null)
        {
            throw new InvalidOperationException("the outbound queue is already started");
        }

        _stopping = new CancellationTokenSource();
        var stopping = _stopping.Token;
        _running =
        [
            Task.Run(() => ScheduleAsync(stopping), CancellationToken.None),
            .. Enumerable.Range(0, _options.Concurrency).Select(_ => Task.Run(() => DeliverAsync(stopping), CancellationToken.None)),
        ];
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is null)
        {
            return;
        }

        // Whatever is in flight stays in the spool as last saved and is delivered after the next start.
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_running).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The host registers one instance under several services and disposes it once for each.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(CancellationToken.None);
        _stopping?.Dispose();
        _wake.Dispose();
    }

    // Moves due messages to the workers; sleeps until the next one is due or something is enqueued (no polling).
    private async Task ScheduleAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            TimeSpan? wait;
            lock (_gate)
            {
                wait = ReleaseDue(_time.GetUtcNow());
            }

            // Capped so that any configured delay fits a timer; waking early only finds nothing due yet.
            using var timeout = wait is { } delay ? new CancellationTokenSource(TimeSpan.FromTicks(Math.Min(delay.Ticks, MaxSleep.Ticks)), _time) : new CancellationTokenSource();
            using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
            try
            {
                await _wake.WaitAsync(either.Token);
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
            }
        }
    }

    private TimeSpan? ReleaseDue(DateTimeOffset now)
    {
        if (_hop == HopState.Down)
        {
            if (now < _hopRetryAt)
            {
                return _hopRetryAt - now;
            }

            // One message finds out whether the next hop is back, rather than every queued one failing on its own.
            if (_waiting.TryPeek(out _, out var first) && first <= now)
            {
                _hop = HopState.Probing;
                _ready.Writer.TryWrite(_waiting.Dequeue());
                return null;
            }

            _hop = HopState.Up;
        }

        if (_hop == HopState.Probing)
        {
            return null;
        }

        while (_waiting.TryPeek(out _, out var due))
        {
            if (due > now)
            {
                return due - now;
            }

            _ready.Writer.TryWrite(_waiting.Dequeue());
        }

        return null;
    }

    private void Park(SpooledMessage message)
    {
        lock (_gate)
        {
            _waiting.Enqueue(message, message.NextAttemptAt ?? DateTimeOffset.MinValue);
        }

        Wake();
    }

    private void Wake()
    {
        // One pending wake-up is enough: the scheduler looks at the whole queue each time it wakes.
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    private async Task DeliverAsync(CancellationToken stopping)
    {
        using var client = new NextHopClient
        {
            Timeout = (int)Math.Min(int.MaxValue, _options.Timeout.TotalMilliseconds),
            LocalDomain = _hostname,
        };
        if (_options.Tls == NextHopTls.Opportunistic)
        {
            // Like Postfix's smtp_tls_security_level=may: opportunistic TLS encrypts against passive listening but
            // cannot authenticate the next hop (a self-signed certificate is common there), and refusing a bad
            // certificate would only make MailKit fall back to nothing or fail delivery. Required verifies.
#pragma warning disable CA5359 // deliberate for opportunistic TLS, see above; NextHopTls.Required validates
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        }

        try
        {
            while (!stopping.IsCancellationRequested)
            {
                if (!await WaitForWorkAsync(client, stopping))
                {
                    continue;
                }

                while (_ready.Reader.TryRead(out var message))
                {
                    await AttemptAsync(client, message, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            await CloseAsync(client, quit: true);
        }
    }

    private async Task<bool> WaitForWorkAsync(NextHopClient client, CancellationToken stopping)
    {
        if (!client.IsConnected)
        {
            return await _ready.Reader.WaitToReadAsync(stopping);
        }

        using var idle = new CancellationTokenSource(CloseAfterIdle, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, idle.Token);
        try
        {
            return await _ready.Reader.WaitToReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            await CloseAsync(client, quit: true);
            return false;
        }
    }

    private async Task AttemptAsync(NextHopClient client, SpooledMessage message, CancellationToken stopping)
    {
        var now = _time.GetUtcNow();
        try
        {
            bool down;
            lock (_gate)
            {
                down = _hop == HopState.Down;
            }

            if (down)
            {
                // Taken before the next hop went down: it waits with the rest, its attempts untouched.
                if (Expired(message, now))
                {
                    await ExpireAsync(message, [.. message.Recipients.Select(r => new ReportedRecipient(r, "4.4.7", null))], stopping);
                }
                else
                {
                    Park(message);
                }

                return;
            }

            if (await ConnectAsync(client, stopping) is { } connectError)
            {
                await DeferAsync(message, connectError, HopRetryAt(), [], stopping);
                return;
            }

            var outcome = await SendAsync(client, message, stopping);
            await SettleAsync(message, outcome, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // Never dropped: whatever went wrong (the spool, a report, a handler), the message is tried again later.
            LogAttemptFailed(message.Id, e);
            await CloseAsync(client, quit: false);
            var retry = message with
            {
                Attempts = message.Attempts + 1,
                NextAttemptAt = now + Backoff(message.Attempts + 1),
                LastError = $"{e.GetType().Name}: {OneLine(e.Message)}",
            };
            try
            {
                await _spool.SaveAsync(retry);
            }
            catch (Exception saveError) when (saveError is IOException or UnauthorizedAccessException)
            {
                // The envelope on disk still holds the message; the in-memory copy retries it.
            }

            Park(retry);
        }
        finally
        {
            // A probe that ended without learning that the next hop is down (a broken transaction, a spool error)
            // must not leave the scheduler waiting for its verdict.
            bool released;
            lock (_gate)
            {
                released = _hop == HopState.Probing;
                if (released)
                {
                    _hop = HopState.Up;
                }
            }

            if (released)
            {
                Wake();
            }
        }
    }

    // Null when connected, else why not (the whole next hop is then backed off).
    private async Task<string?> ConnectAsync(NextHopClient client, CancellationToken stopping)
    {
        if (client.IsConnected)
        {
            if (_time.GetUtcNow() - client.LastUsed < ProbeAfterIdle)
            {
                HopUp();
                return null;
            }

            try
            {
                await client.NoOpAsync(stopping);
                client.LastUsed = _time.GetUtcNow();
                HopUp();
                return null;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested && e is not OperationCanceledException)
            {
                // The next hop closed the idle connection: a new one follows.
                await CloseAsync(client, quit: false);
            }
        }

        var tls = _options.Tls switch
        {
            NextHopTls.Required => SecureSocketOptions.StartTls,
            NextHopTls.None => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };
        var step = "connect to";
        try
        {
            await client.ConnectWithoutDelayAsync(_options.Host, _options.Port, tls, stopping);
            if (_options.Username is { } username)
            {
                step = $"log in as {username} at";
                await client.AuthenticateAsync(username, _options.Password ?? "", stopping);
            }

            client.LastUsed = _time.GetUtcNow();
            HopUp();
            return null;
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            await CloseAsync(client, quit: false);

            // MailKit's messages carry the server's words, never the password we sent.
            var error = $"{step} {NextHop}: {OneLine(e.Message)}";
            var retryAt = HopDown();
            LogNextHopDown(error, retryAt);
            return error;
        }
    }

    private void HopUp()
    {
        lock (_gate)
        {
            if (_hop == HopState.Up && _hopFailures == 0)
            {
                return;
            }

            _hop = HopState.Up;
            _hopFailures = 0;
        }

        Wake();
    }

    private DateTimeOffset HopDown()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            // Several workers failing at once are one failure of the next hop, not several doublings.
            if (_hop != HopState.Down || _hopRetryAt <= now)
            {
                _hopFailures++;
                _hopRetryAt = now + Backoff(_hopFailures);
                _hop = HopState.Down;
            }

            return _hopRetryAt;
        }
    }

    private DateTimeOffset HopRetryAt()
    {
        lock (_gate)
        {
            return _hopRetryAt;
        }
    }

    private async Task<DeliveryOutcome> SendAsync(NextHopClient client, SpooledMessage message, CancellationToken stopping)
    {
        var outcome = new DeliveryOutcome();
        var mailboxes = new List<MailboxAddress>();
        var addresses = new Dictionary<MailboxAddress, string>(ReferenceEqualityComparer.Instance);
        foreach (var recipient in message.Recipients)
        {
            if (Mailbox(recipient) is { } mailbox)
            {
                mailboxes.Add(mailbox);
                addresses[mailbox] = recipient;
            }
            else
            {
                outcome.Refused.Add(new RecipientFailure(recipient, 553, "5.1.3 bad recipient address syntax"));
            }
        }

        var sender = Mailbox(message.Sender);
        if (sender is null || mailboxes.Count == 0)
        {
            outcome.Refused.AddRange(mailboxes.Select(m => new RecipientFailure(addresses[m], 553, "5.1.7 bad sender address syntax")));
            return outcome;
        }

        await using var content = _spool.OpenContent(message.Id);

        // Persistent: MIME parts stay references into the file, so a large message is never held in memory.
        var mime = await MimeMessage.LoadAsync(content, persistent: true, stopping);
        var format = FormatOptions.Default.Clone();
        format.International = !Ascii.IsValid(message.Sender) || message.Recipients.Any(r => !Ascii.IsValid(r));
        client.BeginTransaction();
        try
        {
            outcome.Answer = OneLine(await client.SendAsync(format, mime, sender, mailboxes, stopping));
            client.LastUsed = _time.GetUtcNow();
        }
        catch (SmtpCommandException e) when (!stopping.IsCancellationRequested)
        {
            // MAIL FROM or DATA refused, or every RCPT TO refused (MailKit then gives up before DATA).
            client.LastUsed = _time.GetUtcNow();
            var code = (int)e.StatusCode;
            var refusedAtRcpt = client.Refused.Select(r => r.Mailbox).ToHashSet(ReferenceEqualityComparer.Instance);
            foreach (var mailbox in mailboxes.Where(m => !refusedAtRcpt.Contains(m)))
            {
                Classify(outcome, new RecipientFailure(addresses[mailbox], code, OneLine(e.Message)));
            }
        }
        catch (Exception e) when (!stopping.IsCancellationRequested && e is not OperationCanceledException)
        {
            // The connection broke or timed out mid-transaction: nothing is known to be delivered.
            await CloseAsync(client, quit: false);
            var error = $"{NextHop}: {OneLine(e.Message)}";
            outcome.Deferred.AddRange(mailboxes.Select(m => new RecipientFailure(addresses[m], 451, error)));
            return outcome;
        }

        foreach (var (mailbox, response) in client.Refused)
        {
            Classify(outcome, new RecipientFailure(addresses[mailbox], (int)response.StatusCode, OneLine(response.Response)));
        }

        var settled = outcome.Refused.Concat(outcome.Deferred).Select(f => f.Recipient).ToHashSet(StringComparer.Ordinal);
        outcome.Accepted.AddRange(message.Recipients.Where(r => !settled.Contains(r)));
        return outcome;
    }

    private static void Classify(DeliveryOutcome outcome, RecipientFailure failure) =>
        (failure.Code is >= 500 and < 600 ? outcome.Refused : outcome.Deferred).Add(failure);

    private async Task SettleAsync(SpooledMessage message, DeliveryOutcome outcome, CancellationToken stopping)
    {
        var now = _time.GetUtcNow();
        if (outcome.Accepted.Count > 0)
        {
            LogDelivered(message.Id, message.Sender, string.Join(", ", outcome.Accepted), NextHop, outcome.Answer);
        }

        if (outcome.Refused.Count > 0)
        {
            LogRefused(message.Id, string.Join("; ", outcome.Refused.Select(f => $"<{f.Recipient}>: {f.Code} {f.Answer}")));
            try
            {
                RecipientsRefused?.Invoke(message, outcome.Refused);
            }
            catch (Exception e)
            {
                // The evidence hook must not turn a settled delivery into a retry (and a duplicate).
                LogHandlerFailed(message.Id, e);
            }

            try
            {
                await ReportAsync(
                    message,
                    [.. outcome.Refused.Select(f => new ReportedRecipient(f.Recipient, DeliveryReport.Status(f.Code, f.Answer), $"{f.Code} {f.Answer}"))],
                    "the next mail server refused them",
                    stopping);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested && e is not OperationCanceledException)
            {
                // The recipients' fate is settled: retrying the message would deliver it twice to the others. The
                // report is what is lost, so the admin is told whom to tell.
                LogReportFailed(message.Id, message.Sender, string.Join(", ", outcome.Refused.Select(f => f.Recipient)), e);
            }
        }

        var delivered = message with
        {
            Delivered = message.Delivered + outcome.Accepted.Count,
            Failed = [.. message.Failed, .. outcome.Refused],
        };
        if (outcome.Deferred.Count == 0)
        {
            await _spool.DeleteAsync(message.Id);
            Interlocked.Decrement(ref _depth);
            return;
        }

        var first = outcome.Deferred[0];
        await DeferAsync(delivered, $"{first.Code} {first.Answer}", now + Backoff(message.Attempts + 1), outcome.Deferred, stopping);
    }

    private async Task DeferAsync(
        SpooledMessage message, string error, DateTimeOffset retryAt, List<RecipientFailure> deferred, CancellationToken stopping)
    {
        var pending = deferred.Count > 0 ? [.. deferred.Select(f => f.Recipient)] : message.Recipients;
        var retry = message with
        {
            Recipients = pending,
            Attempts = message.Attempts + 1,
            NextAttemptAt = retryAt,
            LastError = error,
        };
        if (Expired(retry, _time.GetUtcNow()))
        {
            var expired = deferred.Count > 0
                ? deferred.Select(f => new ReportedRecipient(f.Recipient, "4.4.7", $"{f.Code} {f.Answer}"))
                : pending.Select(r => new ReportedRecipient(r, "4.4.7", null));
            await ExpireAsync(retry, [.. expired], stopping);
            return;
        }

        await _spool.SaveAsync(retry);
        LogDeferred(message.Id, string.Join(", ", pending), error, retry.Attempts, retryAt);
        Park(retry);
    }

    private async Task ExpireAsync(SpooledMessage message, IReadOnlyList<ReportedRecipient> recipients, CancellationToken stopping)
    {
        LogExpired(message.Id, string.Join(", ", recipients.Select(r => r.Recipient)), _options.MaxAge, message.LastError);
        await ReportAsync(message, recipients, "delivery time expired", stopping);
        await _spool.DeleteAsync(message.Id);
        Interlocked.Decrement(ref _depth);
    }

    // Written to the spool and queued like any message: a crash after this point still delivers the report.
    private async Task ReportAsync(SpooledMessage original, IReadOnlyList<ReportedRecipient> recipients, string reason, CancellationToken stopping)
    {
        if (original.IsReport || original.Sender.Length == 0)
        {
            // RFC 5321 6.1: never answer a null-sender message (a bounce) with another, or two servers loop.
            LogNoReport(original.Id, string.Join(", ", recipients.Select(r => r.Recipient)));
            return;
        }

        byte[] headers;
        await using (var content = _spool.OpenContent(original.Id))
        {
            headers = await DeliveryReport.ReadHeadersAsync(content, stopping);
        }

        var now = _time.GetUtcNow();
        var report = DeliveryReport.Compose(original, recipients, reason, headers, _hostname, now);
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        await using var writer = _spool.Create();
        await report.WriteToAsync(format, writer.Content, stopping);
        await writer.Content.FlushAsync(stopping);
        var spooled = new SpooledMessage
        {
            Id = writer.Id,
            State = SpoolState.Queued,
            Sender = "",
            Recipients = [original.Sender],
            ClientAddress = "127.0.0.1",
            ReceivedAt = now,
            Size = writer.Length,
            Subject = report.Subject,
            From = report.From.ToString(),
            MessageId = report.MessageId,
            IsReport = true,
        };
        await _spool.CommitAsync(writer, spooled);
        LogReported(original.Id, spooled.Id, original.Sender, reason);
        Enqueue(spooled);
    }

    private bool Expired(SpooledMessage message, DateTimeOffset now) => now - message.ReceivedAt >= _options.MaxAge;

    private TimeSpan Backoff(int attempt)
    {
        // RetryDelay, then doubling: min(RetryDelay * 2^(attempt-1), MaxRetryDelay), kept from overflowing.
        var factor = Math.Pow(2, Math.Clamp(attempt - 1, 0, 40));
        return TimeSpan.FromTicks((long)Math.Min(_options.RetryDelay.Ticks * factor, _options.MaxRetryDelay.Ticks));
    }

    private static MailboxAddress? Mailbox(string address)
    {
        if (address.Length == 0)
        {
            // The null sender: MailKit sends MAIL FROM:<>.
            return new MailboxAddress("", "");
        }

        return MailboxAddress.TryParse(address, out var mailbox) ? mailbox : null;
    }

    private static async Task CloseAsync(NextHopClient client, bool quit)
    {
        if (!client.IsConnected)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.DisconnectAsync(quit, timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or MailKit.ProtocolException or System.Net.Sockets.SocketException)
        {
            // Closing a connection that is already broken.
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    [LoggerMessage(Level = LogLevel.Information, Message = "delivered {Id} from <{Sender}> to {Recipients} via {NextHop}: {Answer}")]
    private partial void LogDelivered(string id, string sender, string recipients, string nextHop, string answer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "next hop refused recipients of {Id} for good: {Refusals}")]
    private partial void LogRefused(string id, string refusals);

    [LoggerMessage(Level = LogLevel.Warning, Message = "deferred {Id} to {Recipients}: {Error}; attempt {Attempts}, next at {RetryAt:O}")]
    private partial void LogDeferred(string id, string recipients, string error, int attempts, DateTimeOffset retryAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "next hop unavailable: {Error}; nothing is tried before {RetryAt:O}")]
    private partial void LogNextHopDown(string error, DateTimeOffset retryAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Id} to {Recipients} expired after {MaxAge} undelivered (last error: {Error}); returning it to its sender")]
    private partial void LogExpired(string id, string recipients, TimeSpan maxAge, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "delivery report {ReportId} for {Id} queued to <{Sender}>: {Reason}")]
    private partial void LogReported(string id, string reportId, string sender, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Id} has the null sender or is itself a report: no delivery report for {Recipients}")]
    private partial void LogNoReport(string id, string recipients);

    [LoggerMessage(Level = LogLevel.Error, Message = "delivery attempt for {Id} failed; it stays queued and is retried")]
    private partial void LogAttemptFailed(string id, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not write the delivery report for {Id} to <{Sender}> about refused {Recipients}")]
    private partial void LogReportFailed(string id, string sender, string recipients, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "a RecipientsRefused handler failed for {Id}")]
    private partial void LogHandlerFailed(string id, Exception exception);
}
