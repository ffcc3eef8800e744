namespace Floodgate.Relay;

/// <summary>A message's content being written into the spool; disposing it unfinished removes the file.</summary>
public sealed class SpoolWriter : IAsyncDisposable
{
    private readonly string _path;
    private bool _finished;
    private bool _committed;
    private long _length;

    internal SpoolWriter(string id, string path, FileStream file)
    {
        Id = id;
        _path = path;
        File = file;
        Content = new BufferedStream(file, 64 * 1024);
    }

    public string Id { get; }

    /// <summary>Where the content is written.</summary>
    public Stream Content { get; }

    private FileStream File { get; }

    /// <summary>Bytes written so far.</summary>
    public long Length => _finished ? _length : Content.Position;

    /// <summary>Flushes the content to disk and closes it; it stays unacknowledged until committed with an envelope.</summary>
    public async Task FinishAsync()
    {
        if (_finished)
        {
            return;
        }

        await Content.FlushAsync();
        _length = Content.Position;
        await Task.Run(() => File.Flush(flushToDisk: true));
        await File.DisposeAsync();
        _finished = true;
    }

    internal void MarkCommitted() => _committed = true;

    /// <summary>Closes the writer; content that was never committed is removed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_finished)
        {
            _finished = true;
            await File.DisposeAsync();
        }

        if (!_committed)
        {
            _committed = true;
            System.IO.File.Delete(_path);
        }
    }
}
