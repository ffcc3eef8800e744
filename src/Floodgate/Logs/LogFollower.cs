using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Floodgate.Logs;

/// <summary>
/// Follows one live log file as `tail -F` does, and remembers where it stopped: through rotation by rename (the file
/// it has open is read to its end before the new one is opened) and by copytruncate (a file shorter than the
/// position is read again from its start), and across a restart from the saved offset (the file is recognised by a
/// hash of its first line; one rotated away meanwhile is found at PATH.1 and read to its end first). The first start
/// begins at the end of the file: the past is `floodgate replay`'s and `floodgate learn`'s. Linux only (it asks
/// /proc which file it has open).
/// </summary>
public sealed class LogFollower : IDisposable
{
    /// <summary>A line longer than this is cut (what is beyond it is skipped): bounded memory whatever the file holds.</summary>
    public const int MaxLineBytes = 64 * 1024;

    private readonly string _path;
    private readonly string _statePath;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly MemoryStream _partial = new();
    private readonly Queue<string> _startup = new();
    private FileStream? _stream;
    private long _position;
    private string? _head;
    private bool _skippingLongLine;

    public LogFollower(string path, string stateDirectory)
    {
        _path = path;
        Directory.CreateDirectory(stateDirectory);
        _statePath = Path.Combine(stateDirectory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..16] + ".json");
    }

    /// <summary>Lines cut because they were longer than <see cref="MaxLineBytes"/>.</summary>
    public long CutLines { get; private set; }

    /// <summary>Opens the file where the last run stopped (or at its end, the first time).</summary>
    public void Start()
    {
        var state = LoadState();
        if (!File.Exists(_path))
        {
            return;
        }

        if (state is null)
        {
            Open(fromEnd: true);
            return;
        }

        if (HeadOf(_path) == state.Head)
        {
            Open(fromEnd: false);
            _position = _stream!.Length >= state.Offset ? state.Offset : 0;
            _stream.Position = _position;
            return;
        }

        // Rotated while Floodgate was down: finish the old file first, then read the new one from its start.
        var rotated = _path + ".1";
        if (File.Exists(rotated) && HeadOf(rotated) == state.Head)
        {
            using var old = new FileStream(rotated, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            old.Position = Math.Min(state.Offset, old.Length);
            foreach (var line in ReadLines(old, flushPartial: true))
            {
                _startup.Enqueue(line);
            }
        }

        Open(fromEnd: false);
    }

    /// <summary>Every complete line written since the last call.</summary>
    public List<string> Poll()
    {
        var lines = new List<string>();
        while (_startup.TryDequeue(out var early))
        {
            lines.Add(early);
        }

        if (_stream is null)
        {
            if (File.Exists(_path))
            {
                Open(fromEnd: false);
            }
            else
            {
                return lines;
            }
        }

        // copytruncate: the same file, now shorter than where we were, or already grown back past it with other lines
        // (its first line is not the one it had).
        var head = _position > 0 ? HeadOf(_stream!) : null;
        if (_stream!.Length < _position || (_head is not null && head is not null && head != _head))
        {
            _partial.SetLength(0);
            _position = 0;
            _stream.Position = 0;
        }

        lines.AddRange(ReadLines(_stream, flushPartial: false));
        _position = _stream.Position;
        _head = HasCompleteFirstLine(_stream) ? HeadOf(_stream) : null;

        // Rotation by rename (or the file deleted): the open file is no longer the one at the path. It has been read to
        // its end above; what is left of its last line is a line too.
        if (!IsStillAtPath())
        {
            if (_partial.Length > 0)
            {
                lines.Add(Encoding.UTF8.GetString(_partial.GetBuffer(), 0, (int)_partial.Length));
                _partial.SetLength(0);
            }

            _stream.Dispose();
            _stream = null;
            if (File.Exists(_path))
            {
                Open(fromEnd: false);
                lines.AddRange(ReadLines(_stream!, flushPartial: false));
                _position = _stream!.Position;
                _head = HasCompleteFirstLine(_stream) ? HeadOf(_stream) : null;
            }
        }

        return lines;
    }

    /// <summary>Remembers where the next run starts: the start of the line not yet complete.</summary>
    public void SaveState()
    {
        if (_stream is null)
        {
            return;
        }

        var state = new FollowState(_path, _position - _partial.Length, HeadOf(_stream));
        var temporary = _statePath + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(state));
        File.Move(temporary, _statePath, overwrite: true);
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _partial.Dispose();
    }

    private void Open(bool fromEnd)
    {
        _stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        _position = fromEnd ? _stream.Length : 0;
        _stream.Position = _position;
        _partial.SetLength(0);
        _head = HasCompleteFirstLine(_stream) ? HeadOf(_stream) : null;
    }

    private bool IsStillAtPath()
    {
        var fd = _stream!.SafeFileHandle.DangerousGetHandle().ToInt64();
        var target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        return target == _path;
    }

    private List<string> ReadLines(FileStream stream, bool flushPartial)
    {
        var lines = new List<string>();
        int read;
        while ((read = stream.Read(_buffer, 0, _buffer.Length)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (_buffer[i] != (byte)'\n')
                {
                    continue;
                }

                Append(_buffer.AsSpan(start, i - start));
                if (!_skippingLongLine)
                {
                    lines.Add(Encoding.UTF8.GetString(_partial.GetBuffer(), 0, (int)_partial.Length).TrimEnd('\r'));
                }

                _skippingLongLine = false;
                _partial.SetLength(0);
                start = i + 1;
            }

            Append(_buffer.AsSpan(start, read - start));
        }

        if (flushPartial && _partial.Length > 0)
        {
            lines.Add(Encoding.UTF8.GetString(_partial.GetBuffer(), 0, (int)_partial.Length));
            _partial.SetLength(0);
        }

        return lines;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_skippingLongLine)
        {
            return;
        }

        if (_partial.Length + bytes.Length > MaxLineBytes)
        {
            // A line this long is not a mail server's: skip it, and the rest of it, bounded.
            CutLines++;
            _skippingLongLine = true;
            _partial.SetLength(0);
            return;
        }

        _partial.Write(bytes);
    }

    private FollowState? LoadState()
    {
        try
        {
            return File.Exists(_statePath) ? JsonSerializer.Deserialize<FollowState>(File.ReadAllText(_statePath)) : null;
        }
        catch (JsonException)
        {
            // A state file that cannot be read starts like a first run, at the end of the log.
            return null;
        }
    }

    private static bool HasCompleteFirstLine(FileStream stream)
    {
        Span<byte> head = stackalloc byte[4096];
        var n = RandomAccess.Read(stream.SafeFileHandle, head, 0);
        return n == head.Length || head[..n].Contains((byte)'\n');
    }

    private static string HeadOf(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return HeadOf(stream);
    }

    // A hash of the file's first line (or of what there is of it): how a restart recognises the file it was reading.
    private static string HeadOf(FileStream stream)
    {
        var head = new byte[4096];
        var n = RandomAccess.Read(stream.SafeFileHandle, head, 0);
        var end = Array.IndexOf(head, (byte)'\n', 0, n);
        return Convert.ToHexStringLower(SHA256.HashData(head.AsSpan(0, end < 0 ? n : end)));
    }

    private sealed record FollowState(string Path, long Offset, string Head);
}
