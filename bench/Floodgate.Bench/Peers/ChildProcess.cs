using System.Diagnostics;
using System.Globalization;

namespace Floodgate.Bench.Peers;

/// <summary>A program this tool started, with the last lines it printed kept for error messages; killed when disposed.</summary>
internal sealed class ChildProcess : IDisposable
{
    private const int KeptLines = 15;

    private readonly Process _process;
    private readonly Queue<string> _lines = new();

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines it printed on stdout and stderr.</summary>
    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <exception cref="PeerException">The program could not be started.</exception>
    public static ChildProcess Start(string file, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // FLOODGATE_* variables of the shell must not change what a server is measured with.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("FLOODGATE_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new PeerException($"cannot start {file}: {e.Message}");
        }

        // Nothing reads its standard input: a program that waits on it sees end of file, not our terminal.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a command to its end and returns its exit code and last lines.</summary>
    /// <exception cref="PeerException">It could not be started or did not end within <paramref name="timeout"/>.</exception>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout,
        CancellationToken cancel, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var child = Start(file, arguments, Environment.CurrentDirectory, environment);
        await child.WaitForExitAsync(timeout, cancel);
        return (child.ExitCode, child.Output);
    }

    /// <exception cref="PeerException">It did not end within <paramref name="timeout"/>.</exception>
    public async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancel)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new PeerException($"{_process.StartInfo.FileName} did not end within {timeout.TotalSeconds:F0} s");
        }
    }

    /// <summary>"exited with code N" and its last lines, or null while it runs.</summary>
    public string? Failure() => _process.HasExited
        ? string.Create(CultureInfo.InvariantCulture, $"exited with code {_process.ExitCode}") + (Output.Length == 0 ? "" : $"; its last output:\n{Output}")
        : null;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It ended on its own between the check and the kill.
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Enqueue(line);
            if (_lines.Count > KeptLines)
            {
                _lines.Dequeue();
            }
        }
    }
}
