using System.Diagnostics;
using System.Globalization;
using Floodgate.Cli;

namespace Floodgate.Bench.Replay;

/// <summary>
/// `replay`: writes a Postfix log of the given number of lines (500 logins, one to three recipients a message, a
/// message every second on average, classic syslog stamps) and times `floodgate replay` over it, three runs.
/// </summary>
internal static class ReplayBenchTool
{
    public const string Usage = "usage: Floodgate.Bench replay [--lines N]   (default 2000000)";

    public static async Task<int> RunAsync(string[] args)
    {
        var lines = 2_000_000;
        if (args.Length == 2 && args[0] == "--lines" && int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            lines = n;
        }
        else if (args.Length != 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var folder = Directory.CreateTempSubdirectory("floodgate-replay-bench-").FullName;
        try
        {
            var log = Path.Combine(folder, "mail.log");
            var messages = Write(log, lines);
            Console.WriteLine($"log: {lines} lines, {messages} messages, {new FileInfo(log).Length / 1_000_000} MB; machine: {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}");
            for (var run = 1; run <= 3; run++)
            {
                using var output = new StringWriter();
                using var error = new StringWriter();
                var timer = Stopwatch.StartNew();
                var exit = await FloodgateCommands.Build().Parse(["replay", "--year", "2026", log])
                    .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
                timer.Stop();
                if (exit != 0)
                {
                    Console.Error.WriteLine(error);
                    return exit;
                }

                Console.WriteLine($"run {run}: {timer.Elapsed.TotalSeconds:0.00} s = {lines / timer.Elapsed.TotalSeconds:0} lines/s; {output.ToString().Split('\n')[0]}");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int Write(string path, int lines)
    {
        var random = new Random(1);
        var time = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
        using var writer = new StreamWriter(path);
        var written = 0;
        var n = 0;
        while (written < lines)
        {
            time = time.AddSeconds(random.NextDouble() * 2);
            var id = n.ToString("X11", CultureInfo.InvariantCulture);
            var stamp = time.ToString("MMM d HH:mm:ss", CultureInfo.InvariantCulture);
            stamp = time.Day < 10 ? stamp.Insert(4, " ") : stamp;
            var login = $"user{random.Next(500)}@example.com";
            var recipients = random.Next(5) switch { 3 => 2, 4 => 3, _ => 1 };
            writer.WriteLine($"{stamp} mx postfix/smtpd[123]: {id}: client=c.example[192.0.2.{n % 250}], sasl_method=PLAIN, sasl_username={login}");
            writer.WriteLine($"{stamp} mx postfix/cleanup[124]: {id}: message-id=<{id}@example.com>");
            writer.WriteLine($"{stamp} mx postfix/qmgr[125]: {id}: from=<{login}>, size=4321, nrcpt={recipients} (queue active)");
            for (var r = 0; r < recipients; r++)
            {
                writer.WriteLine($"{stamp} mx postfix/smtp[126]: {id}: to=<r{r}@remote{n % 97}.example>, relay=mx.remote.example[198.51.100.1]:25, delay=0.2, delays=0.1/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok)");
            }

            writer.WriteLine($"{stamp} mx postfix/qmgr[125]: {id}: removed");
            written += 4 + recipients;
            n++;
        }

        return n;
    }
}
