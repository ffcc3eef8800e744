using System.Text.Json;
using Floodgate.Alerts;

namespace Floodgate.Tests.Alerts;

public sealed class CommandAlertTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("floodgate-hook-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Script(string body)
    {
        var path = Path.Combine(_folder, "hook.sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body);
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    private AlertOptions Options(string run, TimeSpan timeout, int attempts = 3) => new()
    {
        Command = new CommandAlertOptions { Run = run, Args = [_folder, "--verbose", "two words; $(not run)"], Timeout = timeout },
        Retry = new AlertRetryOptions { Attempts = attempts, FirstDelay = TimeSpan.FromMilliseconds(100) },
    };

    [Fact]
    public async Task CommandHook_GetsTheIncidentInItsEnvironmentAndTheJsonOnStdin()
    {
        var run = Script("""
            env | grep '^FLOODGATE_' | sort > "$1/env.txt"
            cat > "$1/stdin.json"
            printf '%s\n' "$@" > "$1/args.txt"
            """);
        await using var alerts = await RunningDispatcher.StartAsync(Options(run, TimeSpan.FromSeconds(10)));

        alerts.Dispatcher.Opened(AlertSamples.Incident());
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via command") == 1, "the hook to run");

        var env = File.ReadAllLines(Path.Combine(_folder, "env.txt")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("suspended", env["FLOODGATE_EVENT"]);
        Assert.Equal("42", env["FLOODGATE_INCIDENT_ID"]);
        Assert.Equal("account", env["FLOODGATE_SCOPE"]);
        Assert.Equal("alice@example.com", env["FLOODGATE_IDENTITY"]);
        Assert.Equal("hourly", env["FLOODGATE_RULE"]);
        Assert.Equal("yes", env["FLOODGATE_LOGIN"]);
        Assert.StartsWith("account:alice@example.com has sent 500 of 500 recipients", env["FLOODGATE_REASON"], StringComparison.Ordinal);
        Assert.Equal("2026-11-27T20:58:17Z", env["FLOODGATE_OPENED_AT"]);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "stdin.json")));
        Assert.Equal("suspended", json.RootElement.GetProperty("event").GetString());
        Assert.Equal("alice@example.com", json.RootElement.GetProperty("incident").GetProperty("identity").GetProperty("key").GetString());
        Assert.Equal("floodgate release alice@example.com --purge", json.RootElement.GetProperty("purge_command").GetString());

        // No shell: every argument arrives as one word, exactly as configured.
        Assert.Equal([_folder, "--verbose", "two words; $(not run)"], File.ReadAllLines(Path.Combine(_folder, "args.txt")));
    }

    [Fact]
    public async Task CommandHook_ControlCharactersOfAnIdentity_DoNotReachItsEnvironment()
    {
        var run = Script("""
            printf '%s' "$FLOODGATE_IDENTITY" > "$1/identity.txt"
            printf '%s' "$FLOODGATE_REASON" > "$1/reason.txt"
            """);
        await using var alerts = await RunningDispatcher.StartAsync(Options(run, TimeSpan.FromSeconds(10)));

        alerts.Dispatcher.Opened(AlertSamples.Incident(account: "mallory\n\r\u001b]0;owned\u0007@example.com"));
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via command") == 1, "the hook to run");

        Assert.Equal("mallory???]0;owned?@example.com", File.ReadAllText(Path.Combine(_folder, "identity.txt")));
        Assert.DoesNotContain(File.ReadAllText(Path.Combine(_folder, "reason.txt")), char.IsControl);
    }

    [Fact]
    public async Task CommandHook_SleepingPastItsTimeout_IsKilledWithItsChildAndRetried()
    {
        var run = Script("""
            n=$(cat "$1/attempts" 2>/dev/null || echo 0)
            n=$((n + 1))
            echo $n > "$1/attempts"
            if [ "$n" -eq 1 ]; then
                echo $$ > "$1/hook.pid"
                sleep 300 &
                echo $! > "$1/child.pid"
                wait
            fi
            exit 0
            """);
        await using var alerts = await RunningDispatcher.StartAsync(Options(run, TimeSpan.FromSeconds(2)));

        alerts.Dispatcher.Opened(AlertSamples.Incident());
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via command") == 1, "the retried hook to succeed");

        Assert.Equal("2", File.ReadAllText(Path.Combine(_folder, "attempts")).Trim());
        Assert.Single(alerts.Logs.Lines, l => l.Contains("did not finish within 2s; it was killed", StringComparison.Ordinal)
            && l.Contains("(attempt 1 of 3)", StringComparison.Ordinal));
        Assert.False(IsRunning(File.ReadAllText(Path.Combine(_folder, "hook.pid"))), "the hook still runs");
        Assert.False(IsRunning(File.ReadAllText(Path.Combine(_folder, "child.pid"))), "the hook's sleep child still runs");
    }

    [Fact]
    public async Task CommandHook_NonZeroExit_IsLoggedWithWhatItSaidAndRetried()
    {
        var run = Script("""
            if [ ! -e "$1/failed-once" ]; then
                touch "$1/failed-once"
                echo "mail server API unreachable" >&2
                exit 3
            fi
            """);
        await using var alerts = await RunningDispatcher.StartAsync(Options(run, TimeSpan.FromSeconds(10)));

        alerts.Dispatcher.Opened(AlertSamples.Incident());
        await Eventually.TrueAsync(() => alerts.LinesWith("sent via command") == 1, "the retried hook to succeed");

        Assert.Single(alerts.Logs.Lines, l => l.Contains($"command {run} exited with status 3: mail server API unreachable", StringComparison.Ordinal));
    }

    // A killed process whose parent is gone may linger as a zombie until something reaps it: that is not running.
    private static bool IsRunning(string pid)
    {
        var stat = $"/proc/{pid.Trim()}/stat";
        if (!File.Exists(stat))
        {
            return false;
        }

        var text = File.ReadAllText(stat);
        return text[(text.LastIndexOf(')') + 2)..][0] != 'Z';
    }
}
