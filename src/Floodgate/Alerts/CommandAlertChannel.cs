using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Floodgate.Engine;

namespace Floodgate.Alerts;

/// <summary>
/// Runs the configured program for each alert (no shell, so nothing in the evidence is ever interpreted): the incident
/// in FLOODGATE_* environment variables, the alert JSON on stdin. A non-zero exit is a failure to retry; past the
/// timeout the program and every process it started are killed.
/// </summary>
public sealed class CommandAlertChannel(CommandAlertOptions options, TimeProvider time) : IAlertChannel
{
    private const int KeptOutput = 4096;

    public string Name { get; } = $"command {options.Run}";

    public async Task SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        using var process = new Process { StartInfo = StartInfo(alert) };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException)
        {
            throw new AlertDeliveryException($"{Name} could not be started: {e.Message}");
        }

        // Read both pipes to the end, keeping only their tails: a chatty hook must neither block on a full pipe nor fill memory.
        var stdout = TailAsync(process.StandardOutput);
        var stderr = TailAsync(process.StandardError);
        using var timeout = new CancellationTokenSource(options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);

        // Killing on the token, not after an await returns, also ends a hook that never reads a full stdin pipe.
        using var kill = linked.Token.Register(static state => KillTree((Process)state!), process);
        try
        {
            try
            {
                await process.StandardInput.WriteAsync(alert.Json.AsMemory(), linked.Token);
                await process.StandardInput.FlushAsync(linked.Token);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The hook exited or closed its stdin without reading the JSON: its exit status decides.
            }

            await process.WaitForExitAsync(linked.Token);
        }
        catch (OperationCanceledException)
        {
            using (var reaped = new CancellationTokenSource(TimeSpan.FromSeconds(10), time))
            {
                await process.WaitForExitAsync(reaped.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new AlertDeliveryException($"{Name} did not finish within {AlertOptions.FormatDuration(options.Timeout)}; it was killed with every process it started");
        }

        if (process.ExitCode != 0)
        {
            // A background child may hold the pipes open after the hook exits: do not wait for it.
            await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(1), time, CancellationToken.None));
            var said = stderr.IsCompletedSuccessfully ? LastLine(stderr.Result) : "";
            said = said.Length > 0 ? said : stdout.IsCompletedSuccessfully ? LastLine(stdout.Result) : "";
            throw new AlertDeliveryException($"{Name} exited with status {process.ExitCode}{(said.Length > 0 ? $": {said}" : "")}");
        }
    }

    private ProcessStartInfo StartInfo(Alert alert)
    {
        var start = new ProcessStartInfo(options.Run)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        };
        foreach (var arg in options.Args)
        {
            start.ArgumentList.Add(arg);
        }

        // Floodgate's own FLOODGATE_* settings (an SMTP password among them) are not the hook's business.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("FLOODGATE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        var incident = alert.Incident;
        start.Environment["FLOODGATE_EVENT"] = alert.EventName;

        // "observe": nobody was suspended (observe mode); a hook that disables accounts must leave this one alone.
        start.Environment["FLOODGATE_MODE"] = alert.ModeName;
        // The identity and the reason hold a sender's own text: no control character (a newline, an ESC) gets through.
        start.Environment["FLOODGATE_SUBJECT"] = EchoedText.Printable(alert.Subject);
        start.Environment["FLOODGATE_INCIDENT_ID"] = incident?.Id.ToString(CultureInfo.InvariantCulture) ?? "";
        start.Environment["FLOODGATE_SCOPE"] = incident is null ? "" : ScopeNames.Of(incident.Identity.Scope);
        start.Environment["FLOODGATE_IDENTITY"] = EchoedText.Printable(incident?.Identity.Key ?? "");
        start.Environment["FLOODGATE_RULE"] = incident?.Rule ?? "";

        // "none": the mail that tripped it came without a login, so the identity may be forged; never disable a real account for it.
        start.Environment["FLOODGATE_LOGIN"] = incident?.Evidence.LoginInvolved switch { true => "yes", false => "none", _ => "" };
        start.Environment["FLOODGATE_REASON"] = EchoedText.Printable(incident?.Reason ?? "");
        start.Environment["FLOODGATE_OPENED_AT"] = incident?.OpenedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "";
        return start;
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // It exited on its own meanwhile.
        }
    }

    private static async Task<string> TailAsync(StreamReader reader)
    {
        var kept = new StringBuilder();
        var buffer = new char[1024];
        try
        {
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                kept.Append(buffer, 0, n);
                if (kept.Length > KeptOutput)
                {
                    kept.Remove(0, kept.Length - KeptOutput);
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }

        return kept.ToString();
    }

    private static string LastLine(string output) =>
        AlertText.Clean(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "", 300);
}
