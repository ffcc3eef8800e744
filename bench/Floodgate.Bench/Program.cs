using BenchmarkDotNet.Running;
using Floodgate.Bench.Load;
using Floodgate.Bench.Micro;
using Floodgate.Bench.Peers;
using Floodgate.Bench.Relay;

// Five tools in one program: `micro` runs the BenchmarkDotNet suite (arguments pass through), `load` drives a
// policy listener over loopback, `peers` drives Floodgate and other policy services with the same load side by side,
// `relay` measures Floodgate's SMTP relay against Postfix relaying to the same kind of sink, `replay` times
// `floodgate replay` over a generated Postfix log.
switch (args.FirstOrDefault())
{
    case "micro":
        var rest = args[1..];

        // BenchmarkSwitcher asks on the console which benchmark to run unless a filter names them.
        var benchmarkArgs = rest.Any(a => a is "--filter" or "-f" or "--list" or "--help") ? rest : [.. rest, "--filter", "*"];

        // Reports go beside the build output, not into whichever folder the command was started from.
        if (!benchmarkArgs.Any(a => a is "--artifacts" or "-a"))
        {
            benchmarkArgs = [.. benchmarkArgs, "--artifacts", Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts")];
        }

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(PolicyPathBenchmarks).Assembly).Run(benchmarkArgs);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    case "load":
        return await LoadTool.RunAsync(args[1..]);
    case "peers":
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine("peers: installs and runs Debian's postfwd and policyd-rate-limit, so it runs on Debian only");
            return 2;
        }

        return await PeersTool.RunAsync(args[1..]);
    case "relay":
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine("relay: starts Debian's Postfix and smtp-sink, so it runs on Debian only");
            return 2;
        }

        return await RelayBenchTool.RunAsync(args[1..]);
    case "replay":
        return await Floodgate.Bench.Replay.ReplayBenchTool.RunAsync(args[1..]);
    default:
        Console.Error.WriteLine("usage: Floodgate.Bench micro [BenchmarkDotNet arguments, e.g. --filter *Parser*]");
        Console.Error.WriteLine(LoadOptions.Usage);
        Console.Error.WriteLine(PeersOptions.Usage);
        Console.Error.WriteLine(RelayBenchOptions.Usage);
        Console.Error.WriteLine(Floodgate.Bench.Replay.ReplayBenchTool.Usage);
        return 2;
}
