using System.Runtime.Versioning;

namespace Floodgate.Bench.Peers;

/// <summary>
/// Installs the peers from Debian without leaving their own services running: apt-get install -y with a
/// policy-rc.d that forbids starting services (unless one exists already), apt-get update and again if that fails, then
/// a stop of any service that started anyway.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class DebianPackages
{
    private const string PolicyRcD = "/usr/sbin/policy-rc.d";
    private const string OurPolicy = "#!/bin/sh\n# Written by Floodgate.Bench peers while it installs packages: start no service.\nexit 101\n";

    private static readonly TimeSpan AptTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The installed version of each package, installing the missing ones when <paramref name="install"/> is set; a package that is not there in the end is left out.</summary>
    public static async Task<Dictionary<string, string>> EnsureAsync(IReadOnlyList<PeerPackage> packages, bool install, Action<string> say,
        CancellationToken cancel)
    {
        var versions = await VersionsAsync(packages, cancel);
        var missing = packages.Where(p => !versions.ContainsKey(p.Name)).ToList();
        if (missing.Count == 0)
        {
            return versions;
        }

        var names = string.Join(' ', missing.Select(p => p.Name));
        if (!install)
        {
            say($"not installed: {names} (--no-install given; apt-get install {names})");
            return versions;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            say($"not installed: {names}; installing needs root (or run: apt-get install {names})");
            return versions;
        }

        say($"installing {names} from Debian (apt-get install -y, services kept from starting)");
        var madePolicy = false;
        try
        {
            if (!File.Exists(PolicyRcD))
            {
                await File.WriteAllTextAsync(PolicyRcD, OurPolicy, cancel);
                File.SetUnixFileMode(PolicyRcD, (UnixFileMode)0b111_101_101);
                madePolicy = true;
            }

            var (code, output) = await AptGetAsync(["install", "-y", "-q", .. missing.Select(p => p.Name)], cancel);
            if (code != 0)
            {
                // A fresh machine has no package lists yet: "Unable to locate package".
                say($"apt-get install failed ({LastLine(output)}); running apt-get update and trying again");
                var update = await AptGetAsync(["update", "-q"], cancel);
                if (update.ExitCode != 0)
                {
                    say($"apt-get update failed: {LastLine(update.Output)}");
                }

                (code, output) = await AptGetAsync(["install", "-y", "-q", .. missing.Select(p => p.Name)], cancel);
            }

            if (code != 0)
            {
                say($"apt-get install {names} failed:\n{output}");
            }
        }
        finally
        {
            if (madePolicy && File.Exists(PolicyRcD) && await File.ReadAllTextAsync(PolicyRcD, CancellationToken.None) == OurPolicy)
            {
                File.Delete(PolicyRcD);
            }
        }

        versions = await VersionsAsync(packages, cancel);
        foreach (var package in missing.Where(p => versions.ContainsKey(p.Name)))
        {
            say($"installed {package.Name} {versions[package.Name]}");
            await StopServiceAsync(package, say, cancel);
        }

        return versions;
    }

    private static async Task<Dictionary<string, string>> VersionsAsync(IReadOnlyList<PeerPackage> packages, CancellationToken cancel)
    {
        var versions = new Dictionary<string, string>();
        foreach (var package in packages)
        {
            var (code, output) = await ChildProcess.RunAsync("dpkg-query", ["-W", "-f=${Status}\t${Version}\n", package.Name], TimeSpan.FromSeconds(30), cancel);
            var fields = output.Split('\t');
            if (code == 0 && fields.Length == 2 && fields[0] == "install ok installed")
            {
                versions[package.Name] = fields[1].Trim();
            }
        }

        return versions;
    }

    private static Task<(int ExitCode, string Output)> AptGetAsync(string[] arguments, CancellationToken cancel) =>
        ChildProcess.RunAsync("apt-get", ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", .. arguments],
            AptTimeout, cancel, new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" });

    // policy-rc.d keeps invoke-rc.d from starting the service; a service manager that ignores it may still have.
    private static async Task StopServiceAsync(PeerPackage package, Action<string> say, CancellationToken cancel)
    {
        if (package.Service is null || package.ServicePidFile is null
            || UnixProcesses.ReadPidFile(package.ServicePidFile) is not { } pid || !UnixProcesses.IsAlive(pid))
        {
            return;
        }

        var (program, arguments) = Directory.Exists("/run/systemd/system")
            ? ("systemctl", new[] { "stop", package.Service! })
            : ("service", new[] { package.Service!, "stop" });
        say($"{package.Service} started with the install (pid {pid}); {program} {string.Join(' ', arguments)}");
        try
        {
            await ChildProcess.RunAsync(program, arguments, TimeSpan.FromSeconds(60), cancel);
        }
        catch (PeerException e)
        {
            say(e.Message);
        }

        if (UnixProcesses.IsAlive(pid))
        {
            say($"{package.Service} still ran; killed pid {pid}");
            UnixProcesses.Kill(pid);
        }
    }

    private static string LastLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";
}
