using System.Net;
using System.Net.Sockets;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floodgate.Tests.Support;

/// <summary>A real Floodgate host in-process: Kestrel on a free loopback port and a Unix socket in a temp folder.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _folder;

    private TestServer(WebApplication app, string folder, FloodgateOptions options)
    {
        _app = app;
        _folder = folder;
        Options = options;
    }

    private string _head = "";

    public FloodgateOptions Options { get; }

    /// <summary>Rewrites the configuration file (a server started with configFile): the same listeners and data, then <paramref name="yaml"/>.</summary>
    public void RewriteConfig(string yaml) => File.WriteAllText(Options.ConfigFile!, _head + yaml);

    public IPEndPoint Tcp => _app.Services.GetRequiredService<PolicyListeners>().BoundTcpEndpoints.First();

    /// <summary>The first SMTP relay endpoint's bound address.</summary>
    public IPEndPoint Relay => _app.Services.GetRequiredService<RelayListeners>().BoundEndpoints.First();

    public IReadOnlyCollection<string> DecisionLines => DecisionLogText().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public UnixDomainSocketEndPoint Unix => new(Path.Combine(_folder, "policy.sock"));

    public LogCollector Logs { get; } = new();

    public DecisionEngine Engine => _app.Services.GetRequiredService<DecisionEngine>();

    public IAccountStore Accounts => _app.Services.GetRequiredService<IAccountStore>();

    /// <summary>
    /// Starts a server whose configuration is the given YAML; unless <paramref name="listen"/> names the endpoints,
    /// it listens on a free loopback port and a Unix socket in its temp folder.
    /// </summary>
    public static async Task<TestServer> StartAsync(string yaml, TimeProvider? time = null, ICounterStore? counters = null, string[]? listen = null,
        string? dataDirectory = null, string[]? relay = null, string[]? kerioLogs = null, bool configFile = false)
    {
        var folder = Directory.CreateTempSubdirectory("floodgate-test-").FullName;
        var sock = Path.Combine(folder, "policy.sock");
        var endpoints = string.Join(", ", (listen ?? ["127.0.0.1:0", $"unix:{sock}"]).Select(e => $"\"{e}\""));
        var relays = relay is null ? "" : $"  relay: [{string.Join(", ", relay.Select(e => $"\"{e}\""))}]\n";
        relays += kerioLogs is null ? "" : $"  log: [{string.Join(", ", kerioLogs.Select(p => $"{{ path: \"{p}\", format: kerio }}"))}]\n";
        var config = $"listen:\n  policy: [{endpoints}]\n  admin: 127.0.0.1:0\n{relays}data_dir: {dataDirectory ?? folder}\nlog:\n  decisions: {Path.Combine(folder, "decisions.log")}\n" + yaml;
        // With configFile, the configuration is a file (floodgate.yml in the temp folder) that a reload reads again.
        var file = Path.Combine(folder, "floodgate.yml");
        if (configFile)
        {
            File.WriteAllText(file, config);
        }

        var options = configFile ? ConfigLoader.Load(file, new System.Collections.Hashtable()) : ConfigLoader.Parse(config, "test.yml");
        var logs = new LogCollector();
        var app = FloodgateHost.Build(options, time, b => b.AddProvider(logs), counters);
        await app.StartAsync();
        var server = new TestServer(app, folder, options) { _head = config[..^yaml.Length] };
        server.Logs.Attach(logs);
        return server;
    }

    public Task StopAsync() => _app.StopAsync();

    /// <summary>The admin API's base address, for example http://127.0.0.1:41234/.</summary>
    public string AdminUrl => $"{(Options.Admin.UsesTls ? "https" : "http")}://{FloodgateHost.AdminAddress(_app, Options)}/";

    /// <summary>The dashboard password generated on first start, read from the data directory as an admin would.</summary>
    public string AdminPassword => File.ReadAllText(Path.Combine(Options.DataDirectory, Floodgate.Admin.AdminPassword.FileName)).Trim();

    public string AdminToken => _app.Services.GetRequiredService<Floodgate.Admin.AdminToken>().Value;

    public T Service<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    public string DecisionLogText()
    {
        _app.Services.GetRequiredService<DecisionLog>().FlushAsync().GetAwaiter().GetResult();
        using var stream = new FileStream(Path.Combine(_folder, "decisions.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
