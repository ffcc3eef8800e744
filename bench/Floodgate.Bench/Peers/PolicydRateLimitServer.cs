using System.Globalization;
using Floodgate.Bench.Load;

namespace Floodgate.Bench.Peers;

/// <summary>
/// policyd-rate-limit (Python, one select loop, every decision an SQL count and insert) with one limit,
/// <c>[MAX, 3600]</c> by sasl_username, on its sqlite backend: an in-memory database or a file in a temporary folder.
/// Runs in the foreground as the package's own account, with a configuration of Debian's
/// /etc/policyd-rate-limit.yaml schema pointing at its own port, pid file and database.
/// </summary>
internal sealed class PolicydRateLimitServer : PolicyServer
{
    private const string Program = "/usr/bin/policyd-rate-limit";
    private const string User = "policyd-rate-limit";

    private readonly long _max;
    private readonly string _directory;
    private readonly bool _inMemory;
    private ChildProcess? _process;

    // state: where it is consulted. It counts only RCPT requests and answers every other stage with its success
    // action without counting (policyd.py: "only care if the protocol states is RCTP").
    public PolicydRateLimitServer(long max, string directory, bool inMemory, PostfixState state)
        : base($"policyd-rate-limit, sqlite {(inMemory ? ":memory:" : "file")}", inMemory ? "prl-mem" : "prl-file", state, Loopback.FreeEndpoint())
    {
        _max = max;
        _directory = directory;
        _inMemory = inMemory;
    }

    public override async Task StartAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var config = Path.Combine(_directory, "policyd-rate-limit.yaml");
        var database = _inMemory ? ":memory:" : Path.Combine(_directory, "db.sqlite3");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $$"""
            # The schema of Debian's /etc/policyd-rate-limit.yaml; see policyd-rate-limit.yaml(5).
            # No per-request logging to stderr, like the other servers here.
            debug: False
            user: "{{User}}"
            group: "{{User}}"
            pidfile: "{{Path.Combine(_directory, "policyd-rate-limit.pid")}}"
            backend: 0
            sqlite_config:
                database: "{{database}}"
            SOCKET: ["{{Endpoint.Address}}", {{Endpoint.Port}}]
            # Each SASL login at most {{_max}} messages per hour, then a 4xx.
            limits:
                - [{{_max}}, 3600]
            limits_by_id: {}
            limit_by_sasl: True
            limit_by_sender: False
            limit_by_ip: False
            limited_networks: []
            success_action: "dunno"
            fail_action: "defer_if_permit 4.7.1 Sending limit reached"
            db_error_action: "dunno"
            report: False
            delay_to_close: 300

            """), cancel);

        var program = Program;
        List<string> arguments = ["--file", config];
        if (Environment.IsPrivilegedProcess)
        {
            // Started as root it would create its pid and database folders itself, and fails on ":memory:" (it
            // mkdirs the database's dirname, ""); started as the account it would drop to, it skips that step.
            await GiveToAsync(_directory, User, User, cancel);
            (program, arguments) = ("setpriv", [$"--reuid={User}", $"--regid={User}", "--clear-groups", Program, .. arguments]);
        }

        Setup = $"{program} {string.Join(' ', arguments)}\n{config}:\n{await File.ReadAllTextAsync(config, cancel)}";
        _process = ChildProcess.Start(program, arguments, _directory);
        await WaitUntilListeningAsync(timeout, cancel);
    }

    public override string? Failure() => _process?.Failure();

    public override ValueTask DisposeAsync()
    {
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
