using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Floodgate.Engine;

namespace Floodgate.Storage;

/// <summary>
/// The embedded counter store's append-only journal: every commit and reset is one record (length, CRC-32, payload) in
/// the current segment file, and one fsync covers every record that arrived while the previous fsync ran (group commit).
/// A snapshot makes the older segments unnecessary: <see cref="RotateAsync"/> starts a new segment and
/// <see cref="DeleteThrough"/> removes the ones the snapshot covers.
/// </summary>
/// <remarks>
/// Each record carries a log sequence number (LSN); the counter store remembers, per identity, the LSN of its last
/// journaled change and saves it with the snapshot, so a replay adds exactly what the snapshot does not already hold.
/// </remarks>
public sealed partial class CounterJournal : IDisposable
{
    public const string FolderName = "journal";

    private const string Suffix = ".journal";
    private const int RecordHeaderBytes = 8;
    private const int MaxPayloadBytes = 1 << 20;
    private const byte RulesKind = 0;
    private const byte ChargeKind = 1;
    private const byte ResetKind = 2;

    // A charge whose items each carry, after the key, the hashes of the addresses counted (unique recipients).
    private const byte AddressedChargeKind = 3;
    private const int MaxAddressesPerItem = 100_000;

    // Segments are allocated ahead in chunks of this size (fallocate), so an append does not change the file's size
    // and its sync (fdatasync) does not also have to commit the inode: on ext4 that took a third off each sync. The
    // unwritten tail reads as zeros; a clean close truncates it away, and after a crash the reader stops at it.
    private const long PreallocationBytes = 4L << 20;

    private readonly string _directory;
    private readonly RuleSet _rules;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _flusher;
    private readonly List<(string Path, long LastLsn)> _closed = [];
    private byte[] _pending = new byte[64 * 1024];
    private byte[] _writing = new byte[64 * 1024];
    private int _pendingLength;
    private TaskCompletionSource _batch = NewBatch();
    private TaskCompletionSource<long>? _rotation;
    private bool _signalled;
    private bool _flushing;
    private bool _stopping;
    private long _nextLsn;

    // Owned by the flusher thread once it runs.
    private FileStream? _segment;
    private string? _segmentPath;
    private bool _segmentHasRecords;
    private long _segmentLength;
    private long _segmentAllocated;

    private CounterJournal(string directory, RuleSet rules, long lastLsn, ILogger logger)
    {
        _directory = directory;
        _rules = rules;
        _logger = logger;
        _nextLsn = lastLsn + 1;
        _flusher = new Thread(FlushLoop) { IsBackground = true, Name = "counter journal" };
    }

    /// <summary>The segment files on disk, oldest first.</summary>
    public IReadOnlyList<string> Segments => Directory.Exists(_directory)
        ? [.. Directory.GetFiles(_directory, "*" + Suffix).Order(StringComparer.Ordinal)]
        : [];

    /// <summary>Segment files in the data directory, oldest first.</summary>
    public static string[] SegmentsIn(string dataDirectory)
    {
        var directory = Path.Combine(dataDirectory, FolderName);
        return Directory.Exists(directory) ? [.. Directory.GetFiles(directory, "*" + Suffix).Order(StringComparer.Ordinal)] : [];
    }

    /// <summary>
    /// Every readable record of every segment, in order. A segment's unreadable part (a torn tail after a crash, garbage,
    /// a wrong checksum) is logged and skipped, never thrown.
    /// </summary>
    public static List<JournalRecord> Read(string dataDirectory, RuleSet rules, ILogger logger)
    {
        var records = new List<JournalRecord>();
        foreach (var path in SegmentsIn(dataDirectory))
        {
            try
            {
                var bytes = File.ReadAllBytes(path);
                var read = ReadSegment(bytes, rules, records, out var problem);
                if (problem is not null)
                {
                    LogTornSegment(logger, path, problem, read, bytes.Length - read);
                }
            }
            catch (Exception e)
            {
                // A journal that cannot be read costs its counts, never the start.
                LogUnreadableSegment(logger, path, e.Message);
            }
        }

        return records;
    }

    /// <summary>
    /// Opens the journal for appending after <paramref name="lastLsn"/> (the highest LSN in the snapshot or the journal
    /// read at start) in a new segment; the segments already there are deleted by the first snapshot after this start.
    /// </summary>
    public static CounterJournal Open(string dataDirectory, RuleSet rules, long lastLsn, ILogger logger)
    {
        var directory = Path.Combine(dataDirectory, FolderName);
        Directory.CreateDirectory(directory);
        var journal = new CounterJournal(directory, rules, lastLsn, logger);
        foreach (var path in SegmentsIn(dataDirectory))
        {
            journal._closed.Add((path, lastLsn));
        }

        journal.StartSegment();
        journal._flusher.Start();
        return journal;
    }

    /// <summary>
    /// Appends a commit of <paramref name="charges"/> at <paramref name="ticks"/> and gives its LSN; the task completes
    /// once the record is on disk. Called under the counter entries' locks, so records of one identity are in order.
    /// </summary>
    internal Task AppendCharge(ReadOnlySpan<CounterCharge> charges, long ticks, out long lsn)
    {
        var bound = 1 + 8 + 8 + 5;
        var addressed = false;
        foreach (var charge in charges)
        {
            bound += 5 + 10 + 5 + Encoding.UTF8.GetMaxByteCount(charge.Key.Length) + 5 + (8 * charge.Recipients.Length);
            addressed |= !charge.Recipients.IsEmpty;
        }

        lock (_gate)
        {
            lsn = _nextLsn++;
            if (_stopping)
            {
                return Stopped();
            }

            var payload = Reserve(bound);
            var at = Begin(payload, addressed ? AddressedChargeKind : ChargeKind, lsn, ticks);
            at += WriteVarint(payload[at..], (ulong)charges.Length);
            string? previousKey = null;
            foreach (var charge in charges)
            {
                at += WriteVarint(payload[at..], (ulong)charge.Rule.Index);
                at += WriteVarint(payload[at..], (ulong)charge.Units);

                // Rules of one scope share a key: 0 stands for "the previous item's key".
                if (ReferenceEquals(charge.Key, previousKey) || charge.Key == previousKey)
                {
                    at += WriteVarint(payload[at..], 0);
                }
                else
                {
                    at += WriteKey(payload[at..], charge.Key, offset: 1);
                    previousKey = charge.Key;
                }

                if (addressed)
                {
                    at += WriteVarint(payload[at..], (ulong)charge.Recipients.Length);
                    foreach (var hash in charge.Recipients.Span)
                    {
                        BinaryPrimitives.WriteUInt64LittleEndian(payload[at..], hash);
                        at += 8;
                    }
                }
            }

            return Commit(at);
        }
    }

    /// <summary>Appends the reset of one identity's counters; the task completes once it is on disk.</summary>
    internal Task AppendReset(Scope scope, string key, long ticks, out long lsn)
    {
        lock (_gate)
        {
            lsn = _nextLsn++;
            if (_stopping)
            {
                return Stopped();
            }

            var payload = Reserve(1 + 8 + 8 + 1 + 5 + Encoding.UTF8.GetMaxByteCount(key.Length));
            var at = Begin(payload, ResetKind, lsn, ticks);
            payload[at++] = (byte)scope;
            at += WriteKey(payload[at..], key, offset: 0);
            return Commit(at);
        }
    }

    /// <summary>
    /// Writes what is pending on the caller's thread unless a write is under way or other work is queued for the thread
    /// pool: a lone decision then waits for its own fsync without a thread switch. While one runs, the records arriving meanwhile go together in the next write,
    /// made by the journal's own thread (group commit).
    /// </summary>
    internal void FlushIfIdle()
    {
        // With requests queued for the thread pool, this thread is worth more serving them than waiting for a sync:
        // the journal's own thread writes instead.
        if (ThreadPool.PendingWorkItemCount > 0)
        {
            FlushSoon();
            return;
        }

        lock (_gate)
        {
            if (_flushing || _pendingLength == 0 || _stopping)
            {
                return;
            }

            _flushing = true;
        }

        FlushOnce();
    }

    /// <summary>Has the journal's own thread write what is pending, for a caller that does not wait.</summary>
    internal void FlushSoon()
    {
        lock (_gate)
        {
            if (!_flushing)
            {
                Signal();
            }
        }
    }

    /// <summary>
    /// Starts a new segment for the records appended from now on, once the current one is on disk; gives the last LSN
    /// of the segments before it (each of their changes is already in the counters, so a snapshot taken next covers them).
    /// </summary>
    public Task<long> RotateAsync()
    {
        lock (_gate)
        {
            // Stopped (a host stopped twice): nothing more is appended, so the segments on disk are all there is.
            if (_stopping)
            {
                return Task.FromResult(_nextLsn - 1);
            }

            _rotation ??= new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            Signal();
            return _rotation.Task;
        }
    }

    /// <summary>Deletes the closed segments whose every record has an LSN up to <paramref name="lsn"/>; returns how many.</summary>
    public int DeleteThrough(long lsn)
    {
        var deleted = 0;
        lock (_closed)
        {
            for (var i = _closed.Count - 1; i >= 0; i--)
            {
                if (_closed[i].LastLsn <= lsn)
                {
                    File.Delete(_closed[i].Path);
                    _closed.RemoveAt(i);
                    deleted++;
                }
            }
        }

        return deleted;
    }

    /// <summary>Writes what is pending and closes the segment.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Signal();
        }

        _flusher.Join();
    }

    /// <summary>Reads one segment's records into <paramref name="into"/>; returns the bytes read before any problem.</summary>
    internal static int ReadSegment(ReadOnlySpan<byte> data, RuleSet rules, List<JournalRecord> into, out string? problem)
    {
        problem = null;
        if (data.Length < Magic.Length || !data[..Magic.Length].SequenceEqual(Magic))
        {
            problem = "not a Floodgate counter journal";
            return 0;
        }

        var at = Magic.Length;
        LimitRule?[]? table = null;
        var added = new List<JournalRecord>();
        while (at < data.Length)
        {
            // The preallocated tail of a segment that was not closed (a crash): nothing was written past here.
            if (data[at] == 0 && data[at..].IndexOfAnyExcept((byte)0) < 0)
            {
                return at;
            }

            if (data.Length - at < RecordHeaderBytes)
            {
                problem = "a record cut short";
                return at;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(data[at..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 4)..]);
            if (length is 0 or > MaxPayloadBytes || length > data.Length - at - RecordHeaderBytes)
            {
                problem = length > data.Length - at - RecordHeaderBytes && length <= MaxPayloadBytes ? "a record cut short" : "a record of impossible length";
                return at;
            }

            var payload = data.Slice(at + RecordHeaderBytes, (int)length);
            if (Crc32.HashToUInt32(payload) != crc)
            {
                problem = "a record whose checksum does not match";
                return at;
            }

            added.Clear();
            if (!TryDecode(payload, rules, ref table, added))
            {
                problem = "a record that does not decode";
                return at;
            }

            into.AddRange(added);
            at += RecordHeaderBytes + (int)length;
        }

        return at;
    }

    private static ReadOnlySpan<byte> Magic => "FGJ1"u8;

    private static Task Stopped() => Task.FromException(new IOException("the counter journal is closed (Floodgate is stopping)"));

    private static TaskCompletionSource NewBatch() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static bool TryDecode(ReadOnlySpan<byte> payload, RuleSet rules, ref LimitRule?[]? table, List<JournalRecord> into)
    {
        if (payload.Length < 17)
        {
            return false;
        }

        var kind = payload[0];
        var lsn = BinaryPrimitives.ReadInt64LittleEndian(payload[1..]);
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(payload[9..]);
        var at = 17;
        switch (kind)
        {
            case RulesKind when table is null:
                if (!TryReadVarint(payload, ref at, out var count) || count > 100_000)
                {
                    return false;
                }

                table = new LimitRule?[count];
                for (var i = 0; i < (int)count; i++)
                {
                    if (at >= payload.Length || payload[at] > 3)
                    {
                        return false;
                    }

                    var scope = (Scope)payload[at++];
                    if (!TryReadVarint(payload, ref at, out var slotTicks) || !TryReadString(payload, ref at, 0, out var name))
                    {
                        return false;
                    }

                    table[i] = rules.Rules.FirstOrDefault(r => r.Name == name && r.Scope == scope && r.SlotTicks == (long)slotTicks);
                }

                return at == payload.Length;
            case ChargeKind or AddressedChargeKind when table is not null:
                if (!TryReadVarint(payload, ref at, out var items) || items > 100_000)
                {
                    return false;
                }

                string? key = null;
                for (ulong i = 0; i < items; i++)
                {
                    if (!TryReadVarint(payload, ref at, out var index) || index >= (ulong)table.Length || !TryReadVarint(payload, ref at, out var units)
                        || units > long.MaxValue || !TryReadString(payload, ref at, 1, out var itemKey))
                    {
                        return false;
                    }

                    key = itemKey ?? key;
                    var rule = table[index];
                    if (key is null)
                    {
                        return false;
                    }

                    ulong[]? hashes = null;
                    if (kind == AddressedChargeKind)
                    {
                        if (!TryReadVarint(payload, ref at, out var addresses) || addresses > MaxAddressesPerItem || (ulong)(payload.Length - at) < addresses * 8)
                        {
                            return false;
                        }

                        hashes = addresses == 0 ? null : new ulong[addresses];
                        for (var h = 0; hashes is not null && h < hashes.Length; h++, at += 8)
                        {
                            hashes[h] = BinaryPrimitives.ReadUInt64LittleEndian(payload[at..]);
                        }
                    }

                    // A rule no longer configured keeps its place so the record still decodes; its units are dropped.
                    into.Add(new JournalRecord(lsn, ticks, rule?.Scope ?? Scope.Account, key, rule, (long)units, IsReset: false, hashes));
                }

                return at == payload.Length;
            case ResetKind when table is not null:
                if (at >= payload.Length || payload[at] > 3)
                {
                    return false;
                }

                var resetScope = (Scope)payload[at++];
                if (!TryReadString(payload, ref at, 0, out var resetKey) || resetKey is null || at != payload.Length)
                {
                    return false;
                }

                into.Add(new JournalRecord(lsn, ticks, resetScope, resetKey, null, 0, IsReset: true));
                return true;
            default:
                return false;
        }
    }

    // A string as its UTF-8 length plus offset (so offset 1 leaves 0 free for "same as before"), then its bytes.
    private static bool TryReadString(ReadOnlySpan<byte> payload, ref int at, int offset, out string? value)
    {
        value = null;
        if (!TryReadVarint(payload, ref at, out var length))
        {
            return false;
        }

        if (offset == 1 && length == 0)
        {
            return true;
        }

        var bytes = length - (ulong)offset;
        if (length < (ulong)offset || bytes > (ulong)(payload.Length - at))
        {
            return false;
        }

        try
        {
            value = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload.Slice(at, (int)bytes));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        at += (int)bytes;
        return true;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> payload, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= payload.Length)
            {
                return false;
            }

            var b = payload[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        var n = 0;
        while (value >= 0x80)
        {
            destination[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[n++] = (byte)value;
        return n;
    }

    private static int WriteKey(Span<byte> destination, string key, int offset)
    {
        var bytes = Encoding.UTF8.GetByteCount(key);
        var n = WriteVarint(destination, (ulong)(bytes + offset));
        return n + Encoding.UTF8.GetBytes(key, destination[n..]);
    }

    private static int Begin(Span<byte> payload, byte kind, long lsn, long ticks)
    {
        payload[0] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(payload[1..], lsn);
        BinaryPrimitives.WriteInt64LittleEndian(payload[9..], ticks);
        return 17;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "counter journal {Path}: {Problem} at byte {Offset}; the remaining {Ignored} bytes of this segment are ignored")]
    private static partial void LogTornSegment(ILogger logger, string path, string problem, int offset, int ignored);

    [LoggerMessage(Level = LogLevel.Error, Message = "counter journal {Path} could not be read and is ignored: {Problem}")]
    private static partial void LogUnreadableSegment(ILogger logger, string path, string problem);

    // Room for one payload after its header in the pending buffer (under the gate).
    private Span<byte> Reserve(int payloadBound)
    {
        var needed = _pendingLength + RecordHeaderBytes + payloadBound;
        if (needed > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(needed, _pending.Length * 2));
        }

        return _pending.AsSpan(_pendingLength + RecordHeaderBytes);
    }

    // Fills in the header of the payload just written (under the gate) and joins the batch of the next fsync.
    private Task Commit(int payloadLength)
    {
        var record = _pending.AsSpan(_pendingLength, RecordHeaderBytes + payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32.HashToUInt32(record[RecordHeaderBytes..]));
        _pendingLength += record.Length;
        return _batch.Task;
    }

    private void Signal()
    {
        if (!_signalled)
        {
            _signalled = true;
            _wake.Release();
        }
    }

    private void FlushLoop()
    {
        while (true)
        {
            _wake.Wait();
            lock (_gate)
            {
                _signalled = false;

                // A caller is writing inline; it signals again when it is done if more has arrived.
                if (_flushing)
                {
                    continue;
                }

                _flushing = true;
            }

            if (FlushOnce())
            {
                return;
            }
        }
    }

    // Writes and syncs what is pending, then carries out a rotation or a stop; the caller has set _flushing. Returns
    // whether the journal is stopping.
    private bool FlushOnce()
    {
        byte[] buffer;
        int length;
        TaskCompletionSource batch;
        TaskCompletionSource<long>? rotation;
        long last;
        bool stopping;
        lock (_gate)
        {
            buffer = _pending;
            _pending = _writing;
            _writing = buffer;
            length = _pendingLength;
            _pendingLength = 0;
            batch = _batch;
            _batch = NewBatch();
            rotation = _rotation;
            _rotation = null;
            last = _nextLsn - 1;
            stopping = _stopping;
        }

        if (length > 0)
        {
            try
            {
                WriteToSegment(buffer.AsSpan(0, length));
                batch.TrySetResult();
            }
            catch (Exception e)
            {
                // The answers waiting on this batch fail (their listener applies its fail mode); a torn write stays
                // in a segment of its own, and the next batch goes to a fresh one.
                LogWriteFailed(e, _segmentPath ?? _directory);
                batch.TrySetException(new IOException("the counter journal could not be written", e));
                CloseSegment(last);
            }
        }
        else
        {
            batch.TrySetResult();
        }

        if (rotation is not null)
        {
            try
            {
                if (_segmentHasRecords || _segment is null)
                {
                    CloseSegment(last);
                    StartSegment();
                }

                rotation.TrySetResult(last);
            }
            catch (Exception e)
            {
                rotation.TrySetException(e);
            }
        }

        if (stopping)
        {
            try
            {
                TrimSegment();
            }
            catch (IOException e)
            {
                // The tail stays allocated: the next start reads past it as after a crash.
                LogWriteFailed(e, _segmentPath ?? _directory);
            }

            _segment?.Dispose();
            _segment = null;
        }

        lock (_gate)
        {
            _flushing = false;

            // What arrived during this write goes in the next one, on the journal's own thread.
            if (_pendingLength > 0 || _rotation is not null || (_stopping && !stopping))
            {
                Signal();
            }
        }

        return stopping;
    }

    private void WriteToSegment(ReadOnlySpan<byte> records)
    {
        if (_segment is null)
        {
            StartSegment();
        }

        if (_segmentAllocated > 0 && _segmentLength + records.Length > _segmentAllocated)
        {
            _segmentAllocated = Preallocate(_segment!, _segmentAllocated, Math.Max(PreallocationBytes, records.Length));
        }

        _segment!.Write(records);
        _segmentLength += records.Length;
        if (OperatingSystem.IsWindows())
        {
            _segment.Flush(flushToDisk: true);
        }
        else if (Fdatasync((int)_segment.SafeFileHandle.DangerousGetHandle()) != 0)
        {
            // Not retried: after a failed sync Linux may report the next one clean with the data still lost.
            throw new IOException($"fdatasync of {_segmentPath} failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
        }

        _segmentHasRecords = true;
    }

    private void CloseSegment(long lastLsn)
    {
        if (_segmentPath is null)
        {
            return;
        }

        try
        {
            TrimSegment();
            _segment?.Dispose();
        }
        catch (IOException)
        {
            // Whatever did not reach the disk was never acknowledged.
        }

        lock (_closed)
        {
            _closed.Add((_segmentPath, lastLsn));
        }

        _segment = null;
        _segmentPath = null;
        _segmentHasRecords = false;
        _segmentLength = 0;
        _segmentAllocated = 0;
    }

    // A new segment named after its first LSN, so the names sort in journal order; its rules table goes first.
    private void StartSegment()
    {
        long first;
        lock (_gate)
        {
            first = _nextLsn;
        }

        var path = Path.Combine(_directory, $"counters-{first:D19}{Suffix}");

        // A segment of that name can only be one a previous start left without records: this one replaces it.
        lock (_closed)
        {
            _closed.RemoveAll(c => c.Path == path);
        }

        var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 0,
            UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        try
        {
            var header = new byte[Magic.Length + RecordHeaderBytes + 64 + _rules.Rules.Sum(r => 20 + Encoding.UTF8.GetMaxByteCount(r.Name.Length))];
            Magic.CopyTo(header);
            var payload = header.AsSpan(Magic.Length + RecordHeaderBytes);
            var at = Begin(payload, RulesKind, first, 0);
            at += WriteVarint(payload[at..], (ulong)_rules.Rules.Count);
            foreach (var rule in _rules.Rules)
            {
                payload[at++] = (byte)rule.Scope;
                at += WriteVarint(payload[at..], (ulong)rule.SlotTicks);
                at += WriteKey(payload[at..], rule.Name, offset: 0);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(Magic.Length), (uint)at);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(Magic.Length + 4), Crc32.HashToUInt32(payload[..at]));
            file.Write(header, 0, Magic.Length + RecordHeaderBytes + at);
            _segmentLength = Magic.Length + RecordHeaderBytes + at;
            _segmentAllocated = Preallocate(file, _segmentLength, PreallocationBytes);
            file.Flush(flushToDisk: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        if (!OperatingSystem.IsWindows())
        {
            Relay.MessageSpool.SyncDirectory(_directory);
        }
        _segment = file;
        _segmentPath = path;
        _segmentHasRecords = false;
    }

    // What was allocated ahead and never written goes: a closed segment ends with its last record.
    private void TrimSegment()
    {
        if (_segment is not null && _segmentAllocated > _segmentLength)
        {
            _segment.SetLength(_segmentLength);
            _segmentAllocated = _segmentLength;
        }
    }

    // Allocates [offset, offset + bytes) of the file, growing its size (mode 0), and gives the new allocated end; 0 where
    // the file system or platform cannot (then every append grows the file, as before).
    private static long Preallocate(FileStream file, long offset, long bytes)
    {
        if (OperatingSystem.IsWindows() || Fallocate((int)file.SafeFileHandle.DangerousGetHandle(), 0, offset, bytes) != 0)
        {
            return 0;
        }

        return offset + bytes;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(int fd, int mode, long offset, long length);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int Fdatasync(int fd);

    [LoggerMessage(Level = LogLevel.Error, Message = "writing the counter journal {Path} failed; the decisions waiting on it fail and the next ones go to a new segment")]
    private partial void LogWriteFailed(Exception e, string path);
}
