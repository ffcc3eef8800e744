using System.Collections.Concurrent;
using System.Text;
using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Relay;

namespace Floodgate.Quarantine;

/// <summary>
/// The relay's held mail: messages answered 250 but never forwarded until an admin releases them (into the outbound
/// queue) or purges them. The spool is the durable store; this is its index of held messages. Held mail older than
/// the retention is purged, with an audit entry.
/// </summary>
public sealed partial class RelayQuarantine : IHeldMail
{
    private readonly ConcurrentDictionary<string, SpooledMessage> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _bytesFor = new(StringComparer.Ordinal);
    private long _bytes;
    private readonly ConcurrentDictionary<string, (ReleaseMode Mode, DateTimeOffset At)> _releases = new(StringComparer.Ordinal);
    private readonly MessageSpool _spool;
    private readonly IOutboundDelivery _outbound;
    private readonly IAuditLog _audit;
    private readonly RelayOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RelayQuarantine> _logger;

    public RelayQuarantine(MessageSpool spool, IOutboundDelivery outbound, IAuditLog audit, RelayOptions options, TimeProvider time,
        ILogger<RelayQuarantine> logger)
    {
        _spool = spool;
        _outbound = outbound;
        _audit = audit;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Messages held now.</summary>
    public int Count => _held.Count;

    /// <summary>Bytes held now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Bytes held now for one identity (as <see cref="SpooledMessage.HeldFor"/> names it).</summary>
    public long BytesFor(string identity) => _bytesFor.TryGetValue(identity, out var bytes) ? bytes : 0;

    /// <summary>Told (once per quiet period, by the caller's channel) when the quota turns a message away.</summary>
    public Action<string, string>? QuotaReached { get; set; }

    /// <summary>
    /// Whether a message of <paramref name="size"/> bytes held for <paramref name="heldFor"/> fits the quarantine's quota
    /// (relay.quarantine_max_bytes in all, relay.quarantine_max_bytes_per_account for one identity); when it does not,
    /// <paramref name="full"/> says which, and the admin is alerted.
    /// </summary>
    public bool HasRoom(string? heldFor, long size, out string full)
    {
        full = "";
        if (Bytes + size > _options.QuarantineMaxBytes)
        {
            full = $"the quarantine holds {Bytes} bytes of relay.quarantine_max_bytes {_options.QuarantineMaxBytes}";
        }
        else if (heldFor is not null && BytesFor(heldFor) + size > _options.QuarantineMaxBytesPerAccount)
        {
            full = $"it holds {BytesFor(heldFor)} bytes for {heldFor} of relay.quarantine_max_bytes_per_account {_options.QuarantineMaxBytesPerAccount}";
        }
        else
        {
            return true;
        }

        LogQuotaReached(heldFor ?? "-", size, full);
        QuotaReached?.Invoke("relay quarantine quota reached",
            $"Floodgate's relay refused a message of {size} bytes held for {heldFor ?? "(no identity)"} with 451 (the sending server keeps it and "
            + $"retries): {full}. Release or purge held mail (floodgate quarantine list), or raise the quota.");
        return false;
    }

    /// <summary>Takes a message already durable in the spool in state <see cref="SpoolState.Held"/> (at start, from the spool).</summary>
    public void Add(SpooledMessage message) => Put(message);

    /// <summary>
    /// Takes a message the relay has just held. If its identity was released while the message was being written,
    /// the release applies to it too (otherwise it would stay behind, held for an account that is free again).
    /// </summary>
    public async Task AddAsync(SpooledMessage message)
    {
        Put(message);
        if (message.HeldFor is { } identity && _releases.TryGetValue(identity, out var release) && release.At >= (message.HeldAt ?? message.ReceivedAt))
        {
            await ActOnAsync([message], release.Mode);
        }
    }

    /// <summary>Held messages, oldest first; with <paramref name="account"/>, only those held for or counted against it.</summary>
    public IReadOnlyList<SpooledMessage> List(string? account = null) =>
        [.. _held.Values.Where(m => account is null || Matches(m, account)).OrderBy(m => m.Id, StringComparer.Ordinal)];

    public SpooledMessage? Find(string id) => _held.TryGetValue(id, out var message) ? message : null;

    /// <summary>The message with its headers and up to <paramref name="bodyBytes"/> bytes of its body, or null.</summary>
    public async Task<HeldMessageView?> ShowAsync(string id, int bodyBytes = 4096)
    {
        if (Find(id) is not { } message)
        {
            return null;
        }

        await using var stream = _spool.OpenContent(id);
        var headerLines = new StringBuilder();
        using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 8192, leaveOpen: true);
        while (await reader.ReadLineAsync() is { } line && line.Length > 0)
        {
            if (headerLines.Length < 64 * 1024)
            {
                headerLines.Append(line).Append('\n');
            }
        }

        var buffer = new char[bodyBytes];
        var read = await reader.ReadBlockAsync(buffer, 0, buffer.Length);
        var cut = read == buffer.Length && reader.Peek() >= 0;
        return new HeldMessageView(message, headerLines.ToString(), new string(buffer, 0, read), cut);
    }

    /// <summary>Moves a held message into the outbound queue; false when no such message is held.</summary>
    public async Task<bool> ReleaseAsync(string id, string by)
    {
        if (!TakeHeld(id, out var message))
        {
            return false;
        }

        await Restoring(message, Forward(message));
        await _audit.AppendAsync(new AuditEntry(_time.GetUtcNow(), by, "quarantine release", message.HeldFor ?? message.CountedAs ?? message.Sender, $"message {id}"));
        return true;
    }

    /// <summary>Deletes a held message for good; false when no such message is held.</summary>
    public async Task<bool> PurgeAsync(string id, string by)
    {
        if (!TakeHeld(id, out var message))
        {
            return false;
        }

        await Restoring(message, _spool.DeleteAsync(id));
        await _audit.AppendAsync(new AuditEntry(_time.GetUtcNow(), by, "quarantine purge", message.HeldFor ?? message.CountedAs ?? message.Sender, $"message {id}"));
        return true;
    }

    /// <summary>Releases or purges every message held for or counted against <paramref name="account"/>; returns how many.</summary>
    public async Task<int> ReleaseAllAsync(string account, ReleaseMode mode, string by)
    {
        var count = await ActOnAsync(List(account), mode);
        if (count > 0)
        {
            await _audit.AppendAsync(new AuditEntry(_time.GetUtcNow(), by, mode == ReleaseMode.Purge ? "quarantine purge" : "quarantine release",
                account, $"{count} messages {(mode == ReleaseMode.Purge ? "purged" : "released")}"));
        }

        return count;
    }

    public string Place => "relay quarantine";

    /// <inheritdoc/>
    public Task<IReadOnlyList<HeldMailEntry>> ListAsync(Identity? identity, int limit) =>
        Task.FromResult<IReadOnlyList<HeldMailEntry>>([.. _held.Values
            .Where(m => identity is null || m.HeldFor == identity.Value.ToString())
            .OrderBy(m => m.HeldAt ?? m.ReceivedAt)
            .Take(limit)
            .Select(m => new HeldMailEntry(Place, m.Id, m.HeldFor ?? m.CountedAs ?? "-", m.HeldReason ?? "held", m.HeldAt ?? m.ReceivedAt, "relay", m.Sender))]);

    /// <inheritdoc/>
    public Task<long> CountAsync(Identity identity)
    {
        var key = identity.ToString();
        return Task.FromResult((long)_held.Values.Count(m => m.HeldFor == key));
    }

    /// <inheritdoc/>
    public async Task<HeldMailRelease> ReleaseAsync(Identity identity, ReleaseMode mode, string by)
    {
        if (mode == ReleaseMode.Keep)
        {
            return new HeldMailRelease(Place, 0, 0, 0, null);
        }

        // Remembered (for a minute) before the scan, so a message being held at this very moment is caught by AddAsync.
        var now = _time.GetUtcNow();
        foreach (var (remembered, old) in _releases)
        {
            if (now - old.At > TimeSpan.FromMinutes(1))
            {
                _releases.TryRemove(remembered, out _);
            }
        }

        var key = identity.ToString();
        _releases[key] = (mode, now);
        string? problem = null;
        var acted = 0;
        try
        {
            acted = await ActOnAsync([.. _held.Values.Where(m => m.HeldFor == key)], mode);
        }
        catch (IOException e)
        {
            // A message the disk would not let go of stays held, and listed; the rest were acted on.
            problem = e.Message;
        }

        if (acted > 0)
        {
            await _audit.AppendAsync(new AuditEntry(now, by, mode == ReleaseMode.Purge ? "quarantine purge" : "quarantine release", key,
                $"{acted} messages {(mode == ReleaseMode.Purge ? "purged" : "released")}"));
        }

        return new HeldMailRelease(Place, acted, _held.Values.Count(m => m.HeldFor == key), 0, problem);
    }

    /// <summary>Delayed messages waiting for their window, oldest first.</summary>
    public int DelayedCount => _held.Values.Count(m => m.Delayed);

    /// <summary>
    /// Offers every delayed message, oldest first, to <paramref name="redecide"/>: accepted ones go out, held ones
    /// (their account was suspended meanwhile) stay held for good; an identity still deferred keeps the rest of its
    /// mail waiting, in order. Returns how many went out.
    /// </summary>
    public async Task<int> ReleaseDelayedAsync(Func<SpooledMessage, Task<Verdict>> redecide)
    {
        var waiting = new HashSet<string>(StringComparer.Ordinal);
        var released = 0;
        foreach (var message in _held.Values.Where(m => m.Delayed).OrderBy(m => m.HeldAt ?? m.ReceivedAt).ThenBy(m => m.Id, StringComparer.Ordinal).ToList())
        {
            var key = message.HeldFor ?? message.CountedAs ?? message.Sender;
            if (waiting.Contains(key) || !_held.ContainsKey(message.Id))
            {
                continue;
            }

            var verdict = await redecide(message);
            if (verdict == Verdict.Defer)
            {
                waiting.Add(key);
            }
            else if (verdict == Verdict.Accept)
            {
                if (TakeHeld(message.Id, out var current))
                {
                    await Restoring(current, Forward(current));
                    released++;
                }
            }
            else if (_held.TryGetValue(message.Id, out var current))
            {
                var held = current with { Delayed = false, HeldReason = "held after a delay: the account was suspended or a hold limit reached" };
                await _spool.SaveAsync(held);
                Put(held);
            }
        }

        return released;
    }

    /// <summary>Purges held mail older than the retention; returns how many.</summary>
    public async Task<int> ExpireAsync()
    {
        var cutoff = _time.GetUtcNow() - _options.QuarantineRetention;
        var expired = _held.Values.Where(m => (m.HeldAt ?? m.ReceivedAt) < cutoff).ToList();
        var count = await ActOnAsync(expired, ReleaseMode.Purge);
        if (count > 0)
        {
            await _audit.AppendAsync(new AuditEntry(_time.GetUtcNow(), "floodgate", "quarantine expire", "*",
                $"{count} messages held longer than {_options.QuarantineRetention.TotalDays:0.#} days purged"));
            LogExpired(count, _options.QuarantineRetention.TotalDays);
        }

        return count;
    }

    private async Task<int> ActOnAsync(IEnumerable<SpooledMessage> messages, ReleaseMode mode)
    {
        var count = 0;
        foreach (var message in messages)
        {
            if (!TakeHeld(message.Id, out var current))
            {
                continue;
            }

            await Restoring(current, mode == ReleaseMode.Purge ? _spool.DeleteAsync(current.Id) : Forward(current));

            count++;
        }

        return count;
    }

    // A release or purge that fails on disk leaves the message held, and listed as such.
    private async Task Restoring(SpooledMessage message, Task action)
    {
        try
        {
            await action;
        }
        catch
        {
            Put(message);
            throw;
        }
    }

    // Every change to what is held goes through Put and Take, which keep the quota's byte counts.
    private void Put(SpooledMessage message)
    {
        lock (_bytesFor)
        {
            if (_held.TryGetValue(message.Id, out var old))
            {
                Tally(old, -1);
            }

            _held[message.Id] = message;
            Tally(message, 1);
        }
    }

    private bool TakeHeld(string id, out SpooledMessage message)
    {
        lock (_bytesFor)
        {
            if (!_held.TryRemove(id, out message!))
            {
                return false;
            }

            Tally(message, -1);
            return true;
        }
    }

    private void Tally(SpooledMessage message, int sign)
    {
        Interlocked.Add(ref _bytes, sign * message.Size);
        var key = message.HeldFor ?? message.CountedAs ?? message.Sender;
        var left = _bytesFor.GetValueOrDefault(key) + (sign * message.Size);
        if (left > 0)
        {
            _bytesFor[key] = left;
        }
        else
        {
            _bytesFor.TryRemove(key, out _);
        }
    }

    private async Task Forward(SpooledMessage message)
    {
        var queued = message with { State = SpoolState.Queued, NextAttemptAt = null, Delayed = false };
        await _spool.SaveAsync(queued);
        _outbound.Enqueue(queued);
    }

    private static bool Matches(SpooledMessage message, string account)
    {
        var key = IdentityNormalizer.Normalize(account);
        return Key(message.HeldFor) == key || Key(message.CountedAs) == key || message.HeldFor == key || message.CountedAs == key;
    }

    private static string? Key(string? identity) => identity is null ? null : identity[(identity.IndexOf(':', StringComparison.Ordinal) + 1)..];

    [LoggerMessage(Level = LogLevel.Warning, Message = "quarantine: quota reached, a message of {Size} bytes held for {Identity} refused with 451: {Full}")]
    private partial void LogQuotaReached(string identity, long size, string full);

    [LoggerMessage(Level = LogLevel.Information, Message = "quarantine: {Count} messages held longer than {Days} days purged")]
    private partial void LogExpired(int count, double days);
}
