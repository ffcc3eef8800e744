using System.Diagnostics;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Packaging;

/// <summary>
/// The .deb, built once per test run by deploy/debian/build-deb.sh (a self-contained single-file publish: about a
/// minute), and the machine's state around installing it: whatever a test leaves installed or running is purged and
/// stopped here, even when the test failed.
/// </summary>
public sealed class DebianPackage : IAsyncLifetime
{
    public const string Name = "floodgate";

    private readonly List<int> _started = [];
    private string _folder = "";

    /// <summary>The built package's path.</summary>
    public string Path { get; private set; } = "";

    /// <summary>Its contents, unpacked with dpkg-deb -x (not installed).</summary>
    public string Unpacked { get; private set; } = "";

    public TimeSpan BuildTime { get; private set; }

    public async Task InitializeAsync()
    {
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("the Debian package tests install the package with apt-get: run them as root (./test.sh does)");
        }

        if (await IsInstalledAsync())
        {
            throw new InvalidOperationException("a floodgate package is already installed on this machine; the packaging test installs and purges it: apt-get purge floodgate first");
        }

        if ((await ShellAsync("getent", "passwd floodgate")).Exit == 0)
        {
            throw new InvalidOperationException("a floodgate user already exists on this machine; the packaging test creates and removes it: deluser --system floodgate first");
        }

        _folder = Directory.CreateTempSubdirectory("floodgate-deb-").FullName;
        var clock = Stopwatch.StartNew();
        var build = await ShellAsync(System.IO.Path.Combine(Repository.Root, "deploy/debian/build-deb.sh"), _folder);
        BuildTime = clock.Elapsed;
        if (build.Exit != 0)
        {
            Directory.Delete(_folder, recursive: true);
            throw new InvalidOperationException($"deploy/debian/build-deb.sh exited {build.Exit}:\n{build.Error}\n{build.Output}");
        }

        Path = build.Output.Trim().Split('\n')[^1];
        Unpacked = System.IO.Path.Combine(_folder, "unpacked");
        var unpack = await ShellAsync("dpkg-deb", $"-x {Path} {Unpacked}");
        if (unpack.Exit != 0)
        {
            throw new InvalidOperationException($"dpkg-deb -x failed: {unpack.Error}");
        }
    }

    /// <summary>Remembers a process started from the installed package, so that it is stopped whatever happens.</summary>
    public void Started(Process process) => _started.Add(process.Id);

    public static async Task<bool> IsInstalledAsync()
    {
        var status = await ShellAsync("dpkg-query", $"-W -f=${{Status}} {Name}");
        return status.Exit == 0 && status.Output.Contains("installed", StringComparison.Ordinal) && !status.Output.Contains("not-installed", StringComparison.Ordinal);
    }

    /// <summary>Stops what the tests started, purges the package and removes the user, so the machine is as before.</summary>
    public async Task CleanUpMachineAsync()
    {
        foreach (var id in _started)
        {
            try
            {
                using var process = Process.GetProcessById(id);
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            catch (ArgumentException)
            {
                // It had already exited.
            }
        }

        _started.Clear();
        if ((await ShellAsync("dpkg-query", $"-W {Name}")).Exit == 0)
        {
            await ShellAsync("apt-get", $"purge -y -q -o DPkg::Lock::Timeout=120 {Name}");
        }

        if ((await ShellAsync("getent", "passwd floodgate")).Exit == 0)
        {
            await ShellAsync("deluser", "--quiet --system floodgate");
        }

        if ((await ShellAsync("getent", "group floodgate")).Exit == 0)
        {
            await ShellAsync("delgroup", "--quiet --system floodgate");
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            await CleanUpMachineAsync();
        }
        finally
        {
            if (_folder.Length > 0 && Directory.Exists(_folder))
            {
                Directory.Delete(_folder, recursive: true);
            }
        }
    }

    /// <summary>Runs a program and returns its exit code and what it printed.</summary>
    public static async Task<(int Exit, string Output, string Error)> ShellAsync(string program, string arguments, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
