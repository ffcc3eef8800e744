using System.Diagnostics;
using System.Net;

namespace Floodgate.Tests.Support;

/// <summary>The real executable, as `floodgate serve --config FILE`, built beside the tests: a process a test can kill -9.</summary>
internal static class FloodgateProcess
{
    /// <summary>Kills a process still running (SIGKILL) and releases it.</summary>
    public static async Task StopAsync(Process? floodgate)
    {
        if (floodgate is { HasExited: false })
        {
            floodgate.Kill();
            await floodgate.WaitForExitAsync();
        }

        floodgate?.Dispose();
    }

    /// <summary>Starts it and waits until it listens on <paramref name="port"/> (which it does only after its start-up recovery).</summary>
    public static async Task<Process> StartAsync(string config, int port, Action<string>? output = null)
    {
        var process = Process.Start(new ProcessStartInfo("dotnet", $"{Path.Combine(AppContext.BaseDirectory, "floodgate.dll")} serve --config {config}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, e) => Forward(e.Data);
        process.ErrorDataReceived += (_, e) => Forward(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var i = 0; i < 200; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return process;
            }
            catch (System.Net.Sockets.SocketException)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"floodgate exited with {process.ExitCode} before listening");
                }

                await Task.Delay(100);
            }
        }

        process.Kill();
        throw new TimeoutException($"floodgate did not listen on {port}");

        void Forward(string? line)
        {
            if (line is not null)
            {
                output?.Invoke(line);
            }
        }
    }
}
