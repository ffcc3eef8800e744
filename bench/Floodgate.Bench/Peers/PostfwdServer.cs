using System.Diagnostics;
using System.Globalization;
using Floodgate.Bench.Load;

namespace Floodgate.Bench.Peers;

/// <summary>
/// postfwd (Debian's postfwd2, the pre-forking version) with one rule: <c>rate(sasl_username/MAX/3600/450 ...)</c> at
/// DATA. It always daemonizes (master, cache daemon, policy server and its children in one process group); it gets its
/// own pid file, cache socket and port in a temporary folder, and is stopped by its pid file and then by process group.
/// </summary>
internal sealed class PostfwdServer : PolicyServer
{
    private const string User = "postfw";

    private readonly long _max;
    private readonly string _directory;
    private readonly string _program;
    private int? _master;

    public PostfwdServer(long max, string directory)
        : base("postfwd", "postfwd", PostfixState.Data, Loopback.FreeEndpoint())
    {
        _max = max;
        _directory = directory;
        _program = File.Exists("/usr/sbin/postfwd2") ? "/usr/sbin/postfwd2" : "/usr/sbin/postfwd";
    }

    private string PidFile => Path.Combine(_directory, "postfwd.pid");

    public override async Task StartAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var rules = Path.Combine(_directory, "postfwd.cf");
        await File.WriteAllTextAsync(rules, string.Create(CultureInfo.InvariantCulture, $"""
            # Each SASL login at most {_max} messages per hour (counted once per message, at DATA), then a 4xx.
            id=HOURLY; protocol_state==DATA; action=rate(sasl_username/{_max}/3600/450 4.7.1 Sending limit reached)

            """), cancel);

        // --cache=0: no request cache (its answers for identical requests), so every request goes through the rule.
        // --perfmon: no logging at all, like the other servers here (Floodgate's decision log is off too).
        List<string> arguments =
        [
            "--file", rules, "--interface", Endpoint.Address.ToString(), "--port", Endpoint.Port.ToString(CultureInfo.InvariantCulture),
            "--pidfile", PidFile, "--cache_proto", "unix", "--cache_port", Path.Combine(_directory, "cache.sock"),
            "--cache=0", "--nodns", "--perfmon",
        ];
        if (Environment.IsPrivilegedProcess)
        {
            // As its Debian service does: drop to the package's own account, which must be able to write the folder.
            await GiveToAsync(_directory, User, User, cancel);
            arguments.AddRange(["--user", User, "--group", User]);
        }

        Setup = $"{_program} {string.Join(' ', arguments)}\n{rules}:\n{await File.ReadAllTextAsync(rules, cancel)}";

        // The command forks the daemon and returns; the daemon writes its pid file.
        using (var launcher = ChildProcess.Start(_program, arguments, _directory))
        {
            await launcher.WaitForExitAsync(timeout, cancel);
            if (launcher.ExitCode != 0)
            {
                throw new PeerException($"{Name} did not start: {launcher.Failure()}");
            }
        }

        var clock = Stopwatch.StartNew();
        while ((_master = UnixProcesses.ReadPidFile(PidFile)) is null)
        {
            if (clock.Elapsed > timeout)
            {
                throw new PeerException($"{Name} wrote no pid file {PidFile} within {timeout.TotalSeconds:F0} s");
            }

            await Task.Delay(100, cancel);
        }

        await WaitUntilListeningAsync(timeout - clock.Elapsed, cancel);
    }

    public override string? Failure() =>
        _master is { } pid && !UnixProcesses.IsAlive(pid) ? $"its master process {pid} is gone" : null;

    // Each persistent connection holds one policy child for as long as it is open: a connection without a child waits.
    public override string? Condition() =>
        _master is { } pid ? $"postfwd had {Math.Max(0, UnixProcesses.InGroup(pid).Count - 3)} policy children (its group less master, cache and policy parent)" : null;

    public override async ValueTask DisposeAsync()
    {
        if (_master is not { } master)
        {
            return;
        }

        // postfwd's own stop (its systemd unit's ExecStop): TERM to the master, which takes its process group down.
        try
        {
            await ChildProcess.RunAsync(_program, ["--pidfile", PidFile, "--kill"], TimeSpan.FromSeconds(10), CancellationToken.None);
        }
        catch (PeerException)
        {
            // Killed by group below.
        }

        var clock = Stopwatch.StartNew();
        while (UnixProcesses.InGroup(master).Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(100);
        }

        foreach (var pid in UnixProcesses.InGroup(master))
        {
            UnixProcesses.Kill(pid);
        }
    }
}
