using System.Diagnostics;
using System.Net.Sockets;
using Floodgate.Configuration;
using Floodgate.Storage;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Redis;

/// <summary>
/// A private redis-server (Debian's package) on a free loopback port with a password, no persistence and its own
/// folder; it can be killed (SIGKILL) and started again on the same port.
/// </summary>
public sealed class RedisInstance : IAsyncLifetime
{
    private const string Binary = "/usr/bin/redis-server";
    private readonly string _folder = Directory.CreateTempSubdirectory("floodgate-redis-").FullName;
    private Process? _process;

    public int Port { get; } = FreePort.Next();

    public string Password { get; } = "t3st-" + Guid.NewGuid().ToString("N");

    /// <summary>The connection string nodes use: loopback, the port and the password.</summary>
    public string Connection => $"127.0.0.1:{Port},password={Password}";

    public async Task InitializeAsync() => await StartAsync();

    /// <summary>Starts redis-server and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: install Debian's redis-server package (./test.sh does: apt-get install redis-server)");
        }

        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _folder,
        };
        foreach (var argument in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--requirepass", Password,
            "--save", "", "--appendonly", "no", "--dir", _folder, "--daemonize", "no", "--loglevel", "warning",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode} at start on port {Port}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(System.Net.IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }

        throw new TimeoutException($"redis-server did not listen on port {Port} within 10 s");
    }

    /// <summary>Kills redis-server at once (SIGKILL), as a crash or a pulled cable would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
    }

    /// <summary>A connection of Floodgate's own (the way a node connects), with its own key prefix.</summary>
    // The model tests check semantics, not outages: a generous timeout keeps a busy test machine from tripping the breaker.
    public Task<RedisStore> ConnectAsync(string prefix, FailMode failMode = FailMode.Open, TimeSpan? timeout = null) =>
        RedisStore.ConnectAsync(new RedisOptions { Connection = Connection, KeyPrefix = prefix, FailMode = failMode, Timeout = timeout ?? TimeSpan.FromSeconds(5) });

    /// <summary>The YAML that points a node at this instance.</summary>
    public string Yaml(string prefix, string failMode = "open", string timeout = "200ms") =>
        $"store: redis\nredis:\n  connection: \"{Connection}\"\n  key_prefix: \"{prefix}\"\n  timeout: {timeout}\n  fail_mode: {failMode}\n";

    public async Task DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
