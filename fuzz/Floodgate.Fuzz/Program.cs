using System.Runtime.Versioning;
using Floodgate.Fuzz;

// Floodgate itself runs on Linux only (Unix sockets, file modes, Postfix's tools).
[assembly: SupportedOSPlatform("linux")]

// Floodgate.Fuzz TARGET            run under AFL++ (afl-fuzz starts it; see fuzz/run.sh)
// Floodgate.Fuzz TARGET FILE...    run the target once on each file and say what happened (reproduce a crash)
if (args.Length == 0)
{
    Console.Error.WriteLine($"usage: Floodgate.Fuzz TARGET [FILE...]; targets: {string.Join(", ", FuzzTarget.All.Select(t => t.Name))}");
    return 2;
}

var target = FuzzTarget.Named(args[0]);
if (args.Length > 1)
{
    var crashed = 0;
    foreach (var file in args.Skip(1))
    {
        try
        {
            target.Run(File.ReadAllBytes(file));
            Console.WriteLine($"{file}: ok");
        }
        catch (Exception e)
        {
            crashed++;
            Console.WriteLine($"{file}: CRASH {e}");
        }
    }

    return crashed == 0 ? 0 : 1;
}

SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    target.Run(copy.ToArray());
});
return 0;
