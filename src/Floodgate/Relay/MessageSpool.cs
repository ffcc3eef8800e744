using System.Runtime.InteropServices;
using System.Text.Json;

namespace Floodgate.Relay;

/// <summary>
/// The relay's durable spool: each accepted message is a content file (<c>ID.eml</c>) and an envelope file
/// (<c>ID.json</c>) in one directory. The envelope is written last and atomically (write, fsync, rename, fsync the
/// directory), so a message exists exactly when its envelope does: content without an envelope was never
/// acknowledged and is removed at start.
/// </summary>
public sealed partial class MessageSpool : IDisposable
{
    private const string ContentSuffix = ".eml";
    private const string EnvelopeSuffix = ".json";
    private const string TemporarySuffix = ".tmp";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly SemaphoreSlim _syncGate = new(1, 1);
    private long _syncRequested;
    private long _syncCompleted;

    public MessageSpool(string directory)
    {
        Directory = Path.GetFullPath(directory);
        var info = System.IO.Directory.CreateDirectory(Directory);
        if (!OperatingSystem.IsWindows())
        {
            info.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        }
    }

    public void Dispose() => _syncGate.Dispose();

    /// <summary>The spool directory (a full path).</summary>
    public string Directory { get; }

    /// <summary>Starts a new message: its content is streamed into the returned writer.</summary>
    public SpoolWriter Create()
    {
        var id = Guid.CreateVersion7().ToString("N");
        var path = ContentPath(id);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new SpoolWriter(id, path, new FileStream(path, options));
    }

    /// <summary>Makes a written message durable with its envelope; when this returns, the message survives a crash.</summary>
    /// <remarks>
    /// The content's fsync and the temporary envelope's run at the same time (the file system commits them together,
    /// one wait instead of two in a row); the rename that makes the message exist comes only after both, so a crash
    /// before it leaves content without an envelope, which was never acknowledged and is removed at start.
    /// </remarks>
    public async Task CommitAsync(SpoolWriter writer, SpooledMessage message)
    {
        var temporary = EnvelopePath(message.Id) + TemporarySuffix;
        var content = writer.FinishAsync();
        var envelope = Task.Run(() => WriteSynced(temporary, message));
        try
        {
            await Task.WhenAll(content, envelope);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        File.Move(temporary, EnvelopePath(message.Id), overwrite: true);
        await SyncDirectoryAsync();
        writer.MarkCommitted();
    }

    /// <summary>Durably replaces a message's envelope (a new state, the recipients still to deliver, the next attempt).</summary>
    public async Task SaveAsync(SpooledMessage message)
    {
        var path = EnvelopePath(message.Id);
        var temporary = path + TemporarySuffix;
        await Task.Run(() =>
        {
            WriteSynced(temporary, message);
            File.Move(temporary, path, overwrite: true);
        });
        await SyncDirectoryAsync();
    }

    // Writes an envelope to a file of its own and fsyncs it.
    private static void WriteSynced(string path, SpooledMessage message)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.None);
        JsonSerializer.Serialize(stream, message, Json);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Removes a delivered or purged message; the envelope goes first, so a crash leaves no message half-gone.</summary>
    public async Task DeleteAsync(string id)
    {
        File.Delete(EnvelopePath(id));
        File.Delete(ContentPath(id));
        await SyncDirectoryAsync();
    }

    /// <summary>Opens a message's content for reading.</summary>
    public FileStream OpenContent(string id) =>
        new(ContentPath(id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);

    /// <summary>Every message's envelope as it is on disk now, oldest first; reads only (for inspection and tests).</summary>
    public IReadOnlyList<SpooledMessage> Read()
    {
        var messages = new List<SpooledMessage>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + EnvelopeSuffix))
        {
            try
            {
                using var stream = File.OpenRead(path);
                if (JsonSerializer.Deserialize<SpooledMessage>(stream, Json) is { } message)
                {
                    messages.Add(message);
                }
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                // Replaced or removed while being read: the next look sees its new state.
            }
        }

        messages.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return messages;
    }

    /// <summary>
    /// Reads every message back after a start or a crash (only then: it removes files a running relay may be
    /// writing), removing what was never acknowledged: content without an
    /// envelope and half-written envelopes. Envelopes that cannot be read are renamed aside and reported.
    /// </summary>
    public SpoolRecovery Recover()
    {
        var messages = new List<SpooledMessage>();
        var unreadable = new List<string>();
        var removed = 0;
        foreach (var temporary in System.IO.Directory.EnumerateFiles(Directory, "*" + TemporarySuffix))
        {
            File.Delete(temporary);
            removed++;
        }

        var envelopes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + EnvelopeSuffix))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            try
            {
                using var stream = File.OpenRead(path);
                var message = JsonSerializer.Deserialize<SpooledMessage>(stream, Json) ?? throw new JsonException("empty envelope");
                if (message.Id != id || !File.Exists(ContentPath(id)))
                {
                    throw new JsonException(message.Id != id ? $"envelope names message {message.Id}" : "its content file is missing");
                }

                messages.Add(message);
                envelopes.Add(id);
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or IOException)
            {
                // Its content stays beside it: the message was acknowledged, and an admin can still recover it by hand.
                File.Move(path, path + ".unreadable", overwrite: true);
                envelopes.Add(id);
                unreadable.Add($"{id}: {e.Message}; its content {id}{ContentSuffix} is kept");
            }
        }

        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + ContentSuffix))
        {
            if (!envelopes.Contains(Path.GetFileNameWithoutExtension(path)))
            {
                File.Delete(path);
                removed++;
            }
        }

        messages.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return new SpoolRecovery(messages, removed, unreadable);
    }

    private string ContentPath(string id) => Path.Combine(Directory, id + ContentSuffix);

    private string EnvelopePath(string id) => Path.Combine(Directory, id + EnvelopeSuffix);

    // A rename is durable only once its directory is synced. Concurrent sessions share one fsync: whoever finds the
    // gate free syncs every rename made before it started (group commit), the others see their ticket covered.
    private async Task SyncDirectoryAsync()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var ticket = Interlocked.Increment(ref _syncRequested);
        await _syncGate.WaitAsync();
        try
        {
            if (Volatile.Read(ref _syncCompleted) >= ticket)
            {
                return;
            }

            var upTo = Volatile.Read(ref _syncRequested);
            await Task.Run(() => SyncDirectory(Directory));
            Volatile.Write(ref _syncCompleted, upTo);
        }
        finally
        {
            _syncGate.Release();
        }
    }

    internal static void SyncDirectory(string directory)
    {
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
