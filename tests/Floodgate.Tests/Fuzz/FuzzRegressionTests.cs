using Floodgate.Configuration;
using Floodgate.Fuzz;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Fuzz;

/// <summary>
/// Every input the fuzzer kept (fuzz/corpus/TARGET: the seeds and what found new paths; fuzz/crashes/TARGET: every
/// crash and hang it found, fixed since) goes to its component again: it must parse or fail with the component's own
/// error type, never throw anything else, and finish within a bounded time.
/// </summary>
public class FuzzRegressionTests
{
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(5);

    public static TheoryData<string> Targets => [.. FuzzTarget.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task KeptInputs_ParseOrFailWithTheComponentsOwnError(string name)
    {
        var target = FuzzTarget.Named(name);
        var files = new[] { "corpus", "crashes" }
            .Select(kind => Path.Combine(Repository.Root, "fuzz", kind, name))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(files.Count >= 2, $"fuzz/corpus/{name} should hold at least its seeds");

        var failures = new List<string>();
        foreach (var file in files)
        {
            var input = await File.ReadAllBytesAsync(file);
            var run = Task.Run(() => target.Run(input));
            if (await Task.WhenAny(run, Task.Delay(PerInput)) != run)
            {
                failures.Add($"{Path.GetRelativePath(Repository.Root, file)}: still running after {PerInput.TotalSeconds} s");
                continue;
            }

            if (run.Exception?.InnerException is { } e)
            {
                failures.Add($"{Path.GetRelativePath(Repository.Root, file)}: {e.GetType().Name}: {e.Message} (expected: {target.Expected})");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {files.Count} kept inputs crashed:\n" + string.Join("\n", failures));
    }

    // What the fuzzer found in the configuration loader (each threw InvalidCastException, InvalidOperationException or
    // ArgumentException out of `floodgate serve` and `check-config`), now a line an admin can act on.
    [Theory]
    [InlineData("overrides:\n  [alice@example.com]: { hourly: 5 }\n", "floodgate.yml:2:3: overrides: each key must be an account, a domain or an address")]
    [InlineData("overrides:\n  alice@example.com: { { a: 1 }: 5 }\n", "overrides.alice@example.com: each key must be a limit's name")]
    public void ConfigLoader_NonScalarOverrideKeys_AreAClearError(string yaml, string error) =>
        Assert.Contains(error, Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>())).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("crash-db39c0093e6d740c")]
    [InlineData("crash-49b49a5a965105d5")]
    public void ConfigLoader_YamlTheReaderGivesUpOn_IsAClearError(string file)
    {
        var yaml = File.ReadAllText(Path.Combine(Repository.Root, "fuzz", "crashes", "config", file));
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>())).Message;
        Assert.Contains("floodgate.yml: not valid YAML", error, StringComparison.Ordinal);
    }
}
