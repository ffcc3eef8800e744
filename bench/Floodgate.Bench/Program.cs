using BenchmarkDotNet.Running;
using Floodgate.Bench.Load;
using Floodgate.Bench.Micro;

// Two tools in one program: `micro` runs the BenchmarkDotNet suite (arguments pass through), `load` drives a
// policy listener over loopback.
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
    default:
        Console.Error.WriteLine("usage: Floodgate.Bench micro [BenchmarkDotNet arguments, e.g. --filter *Parser*]");
        Console.Error.WriteLine(LoadOptions.Usage);
        return 2;
}
