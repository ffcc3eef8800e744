using System.Runtime.InteropServices;

namespace Floodgate.Bench;

/// <summary>
/// How the tools that start servers run: in a temporary folder removed at the end (or kept, when asked), with Ctrl+C
/// and SIGTERM ending the run through its finally blocks, so no server started here outlives it.
/// </summary>
internal static class ToolFolder
{
    /// <summary>Runs <paramref name="run"/> with a new folder and a token cancelled on Ctrl+C or SIGTERM; returns its exit code, 130 when interrupted.</summary>
    public static async Task<int> RunAsync(string tool, bool keep, Func<string, CancellationToken, Task<int>> run)
    {
        using var stop = new CancellationTokenSource();
        void OnCancelKey(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            stop.Cancel();
        }

        Console.CancelKeyPress += OnCancelKey;
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        var folder = Directory.CreateTempSubdirectory($"floodgate-{tool}-").FullName;
        try
        {
            return await run(folder, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"{tool}: interrupted; the servers it started are stopped");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKey;
            if (keep)
            {
                Console.WriteLine($"kept: {folder}");
            }
            else
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (IOException e)
                {
                    await Console.Error.WriteLineAsync($"{tool}: could not remove {folder}: {e.Message}");
                }
            }
        }
    }
}
