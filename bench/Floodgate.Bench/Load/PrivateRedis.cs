using System.Globalization;
using System.Net.Sockets;
using Floodgate.Bench.Peers;

namespace Floodgate.Bench.Load;

/// <summary>A redis-server of this run's own (Debian's package) on a free loopback port with a password and no persistence.</summary>
internal sealed class PrivateRedis : IDisposable
{
    private const string Binary = "/usr/bin/redis-server";

    private readonly ChildProcess _process;
    private readonly string _folder;

    private PrivateRedis(ChildProcess process, string folder, int port, string password)
    {
        _process = process;
        _folder = folder;
        Connection = $"127.0.0.1:{port},password={password}";
    }

    /// <summary>The connection string a node uses.</summary>
    public string Connection { get; }

    /// <exception cref="PeerException">redis-server is missing or did not listen within 10 s.</exception>
    public static async Task<PrivateRedis> StartAsync()
    {
        if (!File.Exists(Binary))
        {
            throw new PeerException($"{Binary} is missing: apt-get install redis-server");
        }

        var port = Loopback.FreeEndpoint().Port;
        var password = Guid.NewGuid().ToString("N");
        var folder = Directory.CreateTempSubdirectory("floodgate-bench-redis-").FullName;
        var process = ChildProcess.Start(Binary, ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--requirepass", password,
            "--save", "", "--appendonly", "no", "--dir", folder, "--loglevel", "warning"], folder);
        var redis = new PrivateRedis(process, folder, port, password);
        for (var waited = 0; waited < 10_000; waited += 20)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return redis;
            }
            catch (SocketException) when (!process.HasExited)
            {
                await Task.Delay(20);
            }
        }

        redis.Dispose();
        throw new PeerException($"redis-server did not listen on port {port}: {process.Output}");
    }

    public void Dispose()
    {
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
