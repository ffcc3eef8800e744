using Floodgate.Bench.Load;
using Floodgate.Bench.Peers;

namespace Floodgate.Bench.Relay;

/// <summary>
/// The built <c>floodgate serve --config FILE</c> in its own process, like Postfix: the relay on a loopback port with
/// the sink as its next hop (with Postfix's default concurrency), a limit no sender reaches (every message is counted and decided, none held), no decision log.
/// </summary>
internal sealed class FloodgateRelay(string directory, CountingSink sink) : RelayUnderTest("Floodgate", sink)
{
    // As many deliveries at once as Postfix makes to its relayhost by default (relay_destination_concurrency_limit).
    public const int NextHopConcurrency = 20;

    private ChildProcess? _process;

    public override async Task StartAsync(TimeSpan timeout, CancellationToken cancel)
    {
        Endpoint = Loopback.FreeEndpoint();
        var config = Path.Combine(directory, "floodgate.yml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { policy: ["{{Loopback.FreeEndpoint()}}"], admin: "{{Loopback.FreeEndpoint()}}", relay: ["{{Endpoint}}"] }
            data_dir: {{Path.Combine(directory, "data")}}
            log: { decisions: none }
            limits:
              - { name: hourly, scope: account, unit: messages, max: 1000000000, per: 1h, action: suspend }
            relay:
              next_hop: { host: {{Sink.Endpoint.Address}}, port: {{Sink.Endpoint.Port}}, tls: none, concurrency: {{NextHopConcurrency}} }
            """, cancel);

        var (host, arguments) = FloodgateServer.ServeCommand(config);
        Setup = $"{host} {string.Join(' ', arguments)}\n{config}:\n{await File.ReadAllTextAsync(config, cancel)}";
        _process = ChildProcess.Start(host, arguments, directory);
        await Loopback.WaitForListenerAsync(Name, Endpoint, Failure, timeout, cancel);
    }

    public override string? Failure() => _process?.Failure();

    public override ValueTask DisposeAsync()
    {
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
