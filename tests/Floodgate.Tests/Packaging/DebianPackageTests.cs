using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Floodgate.Cli;
using Floodgate.Tests.Support;
using Xunit.Abstractions;

namespace Floodgate.Tests.Packaging;

[Collection(PackagingGroup.Name)]
public sealed partial class DebianPackageTests(DebianPackage package, ITestOutputHelper output) : IClassFixture<DebianPackage>
{
    private const string Unit = "/lib/systemd/system/floodgate.service";
    private const string State = "/var/lib/floodgate";

    // Every file the package installs, with its mode, owner and group; "->" marks a symbolic link and its target.
    private static readonly Dictionary<string, string> Installed = new()
    {
        ["/usr/bin/floodgate"] = "-> ../lib/floodgate/floodgate",
        ["/usr/lib/floodgate/floodgate"] = "755 root root",
        ["/usr/lib/floodgate/libe_sqlite3.so"] = "644 root root",
        ["/etc/floodgate/floodgate.yml"] = "640 root floodgate",
        [Unit] = "644 root root",
        ["/usr/share/man/man8/floodgate.8.gz"] = "644 root root",
        ["/usr/share/bash-completion/completions/floodgate"] = "644 root root",
        ["/usr/share/doc/floodgate/copyright"] = "644 root root",
        ["/usr/share/doc/floodgate/changelog.gz"] = "644 root root",
        ["/usr/share/lintian/overrides/floodgate"] = "644 root root",
    };

    // What postinst makes: the state directory, the token and password the service reads, the unit's enablement.
    private static readonly Dictionary<string, string> Made = new()
    {
        ["/etc/floodgate"] = "755 root root",
        [State] = "750 floodgate floodgate",
        [$"{State}/admin.token"] = "600 floodgate floodgate",
        [$"{State}/admin.password"] = "600 floodgate floodgate",
        ["/etc/systemd/system/multi-user.target.wants/floodgate.service"] = $"-> {Unit}",
    };

    [Fact]
    public async Task Package_InstallsRunsAsItsUnitAndPurgesToNothing()
    {
        output.WriteLine($"package built in {package.BuildTime.TotalSeconds:F0} s: {package.Path} ({new FileInfo(package.Path).Length / 1024 / 1024} MB)");
        try
        {
            var install = await AptAsync("install", package.Path);
            Assert.True(install.Exit == 0, $"apt-get install failed:\n{install.Error}\n{install.Output}");
            Assert.Contains($"password in {State}/admin.password", install.Output, StringComparison.Ordinal);

            var listed = (await DebianPackage.ShellAsync("dpkg", $"-L {DebianPackage.Name}")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(p => !Directory.Exists(p)).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(Installed.Keys.Order(StringComparer.Ordinal), listed);
            foreach (var (path, expected) in Installed.Concat(Made))
            {
                Assert.Equal((path, expected), (path, await DescribeAsync(path)));
            }

            var conffiles = await DebianPackage.ShellAsync("dpkg-query", $"-W -f=${{Conffiles}} {DebianPackage.Name}");
            Assert.Contains("/etc/floodgate/floodgate.yml", conffiles.Output, StringComparison.Ordinal);
            var config = await File.ReadAllTextAsync("/etc/floodgate/floodgate.yml");
            Assert.Contains($"\ndata_dir: {State}\n", config, StringComparison.Ordinal);
            Assert.Contains("\"unix:/run/floodgate/policy.sock\"", config, StringComparison.Ordinal);
            Assert.Contains("# Each limit: at most `max` units", config, StringComparison.Ordinal);

            var user = (await DebianPackage.ShellAsync("getent", "passwd floodgate")).Output.Trim().Split(':');
            Assert.True(int.Parse(user[2], System.Globalization.CultureInfo.InvariantCulture) < 1000, $"floodgate is not a system user: uid {user[2]}");
            Assert.Equal((State, "/usr/sbin/nologin"), (user[5], user[6]));
            Assert.True((await DebianPackage.ShellAsync("getent", "group postfix")).Exit == 0, "the packaging test expects Postfix installed (./test.sh installs it)");
            Assert.Contains("postfix", (await DebianPackage.ShellAsync("id", "-nG floodgate")).Output.Split(), StringComparer.Ordinal);

            var version = (await DebianPackage.ShellAsync("dpkg-query", $"-W -f=${{Version}} {DebianPackage.Name}")).Output;
            var printed = (await DebianPackage.ShellAsync("/usr/bin/floodgate", "--version")).Output.Trim();
            Assert.StartsWith(version + "+", printed, StringComparison.Ordinal);

            await RunTheUnitAsync();

            // The story for a newcomer, from the package alone.
            var demo = await DebianPackage.ShellAsync("/usr/bin/floodgate", "demo --quick");
            Assert.True(demo.Exit == 0, $"floodgate demo failed:\n{demo.Error}\n{demo.Output}");
            Assert.Contains($"Summary: hijacked account: {Floodgate.Demo.DemoStory.HourlyLimit} delivered before containment", demo.Output, StringComparison.Ordinal);

            var remove = await AptAsync("remove", DebianPackage.Name);
            Assert.True(remove.Exit == 0, $"apt-get remove failed:\n{remove.Error}\n{remove.Output}");
            Assert.False(File.Exists("/usr/bin/floodgate") || Directory.Exists("/usr/lib/floodgate") || File.Exists(Unit), "remove left the program or its unit");
            Assert.True(File.Exists("/etc/floodgate/floodgate.yml") && File.Exists($"{State}/admin.token") && File.Exists($"{State}/floodgate.db"),
                "remove must keep the configuration and the state (only purge removes them)");
            Assert.Equal(0, (await DebianPackage.ShellAsync("getent", "passwd floodgate")).Exit);

            var purge = await AptAsync("purge", DebianPackage.Name);
            Assert.True(purge.Exit == 0, $"apt-get purge failed:\n{purge.Error}\n{purge.Output}");
            Assert.False(await DebianPackage.IsInstalledAsync());
            string[] gone = ["/etc/floodgate", State, "/run/floodgate", "/etc/systemd/system/floodgate.service",
                "/etc/systemd/system/multi-user.target.wants/floodgate.service", "/var/lib/systemd/deb-systemd-helper-enabled/floodgate.service.dsh-also",
                "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/floodgate.service"];
            Assert.DoesNotContain(gone, p => File.Exists(p) || Directory.Exists(p) || new FileInfo(p).LinkTarget is not null);
            Assert.NotEqual(0, (await DebianPackage.ShellAsync("getent", "passwd floodgate")).Exit);
            Assert.NotEqual(0, (await DebianPackage.ShellAsync("getent", "group floodgate")).Exit);
        }
        finally
        {
            await package.CleanUpMachineAsync();
        }
    }

    [Fact]
    public async Task Package_LintianReportsNoErrors()
    {
        if (!File.Exists("/usr/bin/lintian"))
        {
            Assert.Fail("the packaging test needs Debian's lintian: run ./test.sh, which installs it, or apt-get install lintian");
        }

        var lintian = await DebianPackage.ShellAsync("lintian", $"--fail-on error {package.Path}");
        output.WriteLine(lintian.Output + lintian.Error);
        Assert.DoesNotContain(lintian.Output.Split('\n'), l => l.StartsWith("E: ", StringComparison.Ordinal));
        Assert.True(lintian.Exit == 0, $"lintian exited {lintian.Exit}:\n{lintian.Output}\n{lintian.Error}");
    }

    [Fact]
    public async Task Package_ManPageAndBashCompletionCoverEveryVerb()
    {
        var page = Path.Combine(package.Unpacked, "usr/share/man/man8/floodgate.8.gz");
        var man = await DebianPackage.ShellAsync("man", $"--warnings -E UTF-8 -l {page}", new Dictionary<string, string> { ["MANWIDTH"] = "200" });
        Assert.True(man.Exit == 0 && man.Error.Length == 0, $"man -l {page}: {man.Error}");
        var verbs = CommandTree.Walk(FloodgateCommands.Build()).Select(v => v.Path).ToList();
        Assert.Contains("quarantine list", verbs);
        foreach (var verb in verbs)
        {
            Assert.Contains($"floodgate {verb}", man.Output, StringComparison.Ordinal);
        }

        Assert.Contains("/var/lib/floodgate/admin.password", man.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("floodgate man", man.Output, StringComparison.Ordinal);

        var script = Path.Combine(package.Unpacked, "usr/share/bash-completion/completions/floodgate");
        Assert.Equal("serve set-password", await CompleteAsync(script, "floodgate", "se"));
        Assert.Equal("list", await CompleteAsync(script, "floodgate", "quarantine", "li"));
        Assert.Equal("--config", await CompleteAsync(script, "floodgate", "serve", "--con"));
        Assert.Equal("--deliver", await CompleteAsync(script, "floodgate", "--config", "x.yml", "release", "alice@example.com", "--d"));
        Assert.Equal("", await CompleteAsync(script, "floodgate", "suspend", "alice@example.com", "--reason", ""));
    }

    private static async Task<string> CompleteAsync(string script, params string[] words)
    {
        var array = string.Join(' ', words.Select(w => $"'{w}'"));
        var bash = await DebianPackage.ShellAsync("bash", $"-c \"source {script}; COMP_WORDS=({array}); COMP_CWORD={words.Length - 1}; _floodgate; echo \\\"${{COMPREPLY[*]}}\\\"\"");
        Assert.True(bash.Exit == 0, bash.Error);
        return bash.Output.Trim();
    }

    // As systemd would: the unit's user and group with the user's groups, its working directory, its runtime
    // directory, ExecStartPre then ExecStart. There is no systemd in the test environment.
    private async Task RunTheUnitAsync()
    {
        var unit = (await File.ReadAllLinesAsync(Unit)).Select(l => l.Split('=', 2)).Where(p => p.Length == 2 && !p[0].StartsWith('#'))
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        Assert.Equal(("true", "strict", State), (unit["NoNewPrivileges"], unit["ProtectSystem"], unit["ReadWritePaths"]));
        Assert.Equal("/bin/kill -HUP $MAINPID", unit["ExecReload"]);
        var (who, group, home) = (unit["User"], unit["Group"], State);
        var runtime = $"/run/{unit["RuntimeDirectory"]}";
        Assert.Equal(0, (await DebianPackage.ShellAsync("install", $"-d -o {who} -g {group} -m {unit["RuntimeDirectoryMode"]} {runtime}")).Exit);
        var environment = new Dictionary<string, string> { ["HOME"] = home };

        var pre = await DebianPackage.ShellAsync("setpriv", $"--reuid={who} --regid={group} --init-groups -- {unit["ExecStartPre"]}", environment);
        Assert.True(pre.Exit == 0, $"ExecStartPre failed: {pre.Error}{pre.Output}");

        var start = new ProcessStartInfo("setpriv", $"--reuid={who} --regid={group} --init-groups -- {unit["ExecStart"]}")
        {
            WorkingDirectory = unit["WorkingDirectory"],
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["HOME"] = home;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new List<string>();
        using var process = Process.Start(start)!;
        package.Started(process);
        void Line(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Add(line);
            }

            if (line.Contains("floodgate started", StringComparison.Ordinal))
            {
                started.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(started.Task, exited, Task.Delay(TimeSpan.FromSeconds(30))) != started.Task)
        {
            lock (lines)
            {
                Assert.Fail($"floodgate serve did not start as the unit's user:\n{string.Join('\n', lines)}");
            }
        }

        // Safe on a mail server not yet wired to it: everything it listens on is loopback or its own socket.
        var listening = (await DebianPackage.ShellAsync("ss", "-ltnH")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).ToHashSet();
        foreach (var port in new[] { "127.0.0.1:10040", "127.0.0.1:2525", "127.0.0.1:8025" })
        {
            Assert.Contains(port, listening);
        }

        var open = (await DebianPackage.ShellAsync("ss", $"-ltnpH")).Output.Split('\n').Where(l => l.Contains($"pid={process.Id},", StringComparison.Ordinal))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).ToList();
        Assert.Equal(3, open.Count);
        Assert.All(open, a => Assert.StartsWith("127.0.0.1:", a, StringComparison.Ordinal));

        foreach (EndPoint endpoint in new EndPoint[] { new IPEndPoint(IPAddress.Loopback, 10040), new UnixDomainSocketEndPoint($"{runtime}/policy.sock") })
        {
            await using var policy = await PolicyClient.ConnectAsync(endpoint);
            Assert.Equal("DUNNO", await policy.AskAsync(PolicyClient.Request("DATA", "alice@example.com", "alice@example.com", 1, $"deb-{endpoint}")));
        }

        await LogInAsync();

        // systemctl reload: ExecReload with the main pid; the packaged file is read again and the process goes on.
        var reload = unit["ExecReload"].Replace("$MAINPID", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal).Split(' ', 2);
        Assert.Equal(0, (await DebianPackage.ShellAsync(reload[0], reload[1])).Exit);
        for (var i = 0; i < 100 && !Reloaded(); i++)
        {
            await Task.Delay(100);
        }

        lock (lines)
        {
            Assert.True(Reloaded(), $"no reload line after ExecReload:\n{string.Join('\n', lines)}");
        }

        Assert.False(process.HasExited, "ExecReload must not end the service");
        bool Reloaded()
        {
            lock (lines)
            {
                return lines.Any(l => l.Contains("reload: /etc/floodgate/floodgate.yml applied: mode enforce", StringComparison.Ordinal));
            }
        }

        Assert.Equal(0, (await DebianPackage.ShellAsync("kill", $"-TERM {process.Id}")).Exit);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, process.ExitCode);
        Assert.NotEqual(0, (await DebianPackage.ShellAsync("pgrep", "-u floodgate")).Exit);
    }

    private static async Task LogInAsync()
    {
        using var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri("http://127.0.0.1:8025/") };
        var form = await http.GetStringAsync("login");
        var csrf = WebUtility.HtmlDecode(CsrfInput().Match(form).Groups[1].Value);
        var password = (await File.ReadAllTextAsync($"{State}/admin.password")).Trim();
        using var login = await http.PostAsync("login", new FormUrlEncodedContent(new Dictionary<string, string> { ["password"] = password, ["csrf"] = csrf, ["return"] = "/" }));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var overview = await http.GetStringAsync("");
        Assert.Contains("Top senders now", overview, StringComparison.Ordinal);
        Assert.Contains("alice@example.com", overview, StringComparison.Ordinal);

        using var api = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:8025/") };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync($"{State}/admin.token")).Trim());
        var account = await api.GetStringAsync("api/accounts/alice@example.com");
        Assert.Contains("\"count\":2", account, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output, string Error)> AptAsync(string verb, string what)
    {
        // Like test.sh: a machine that runs systemd must not start the system's own floodgate under the test.
        const string policy = "/usr/sbin/policy-rc.d";
        var made = !File.Exists(policy);
        if (made)
        {
            await File.WriteAllTextAsync(policy, "#!/bin/sh\nexit 101\n");
            File.SetUnixFileMode(policy, (UnixFileMode)0b111_101_101);
        }

        try
        {
            return await DebianPackage.ShellAsync("apt-get", $"{verb} -y -q -o DPkg::Lock::Timeout=120 {what}",
                new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" });
        }
        finally
        {
            if (made)
            {
                File.Delete(policy);
            }
        }
    }

    private static async Task<string> DescribeAsync(string path)
    {
        if (new FileInfo(path).LinkTarget is { } target)
        {
            return $"-> {target}";
        }

        var stat = await DebianPackage.ShellAsync("stat", $"-c \"%a %U %G\" {path}");
        return stat.Exit == 0 ? stat.Output.Trim() : $"missing: {stat.Error.Trim()}";
    }

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfInput();
}
