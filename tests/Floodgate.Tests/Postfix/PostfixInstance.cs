using System.Diagnostics;
using System.Text.Json;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Postfix;

/// <summary>
/// A private Postfix from the Debian package: its own config directory and queue under a temporary folder, smtpd on
/// a free 127.0.0.1 port with Cyrus SASL (sasldb2) users, relaying everything to Postfix's smtp-sink on another
/// port. Started with `postfix -c`, stopped by killing its master process id; the system instance is never touched.
/// </summary>
internal sealed class PostfixInstance : IAsyncDisposable
{
    public const string Domain = "floodgate.test";

    private static readonly string[] Programs = ["/usr/sbin/postfix", "/usr/sbin/postqueue", "/usr/sbin/smtp-sink", "/usr/sbin/saslpasswd2"];
    private Process? _sink;
    private int _masterPid;

    private PostfixInstance(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    public string ConfigDirectory => Path.Combine(Folder, "conf");

    public string QueueDirectory => Path.Combine(Folder, "queue");

    public string SinkDirectory => Path.Combine(Folder, "sink");

    /// <summary>Where Postfix's unix:private/floodgate resolves to.</summary>
    public string PrivateSocket(string name) => Path.Combine(QueueDirectory, "private", name);

    public int SmtpPort { get; private set; }

    /// <summary>The port of this instance's smtp-sink (the next hop its mail and a relay's can be delivered to).</summary>
    public int SinkPort { get; private set; }

    public string MailLog => File.Exists(Path.Combine(Folder, "maillog")) ? File.ReadAllText(Path.Combine(Folder, "maillog")) : "";

    /// <summary>Fails with what to install when the machine lacks Postfix or is not root (Postfix starts as root).</summary>
    public static void Require()
    {
        var missing = Programs.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"Postfix end-to-end tests need {string.Join(", ", missing)}: run ./test.sh, which installs postfix, sasl2-bin, libsasl2-modules and swaks from Debian.");
        }

        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("Postfix end-to-end tests start a private Postfix, which must be started as root; run ./test.sh as root.");
        }
    }

    /// <summary>Starts Postfix with <paramref name="policyConfig"/> (main.cf lines, the snippet users install) appended.</summary>
    public static async Task<PostfixInstance> StartAsync(string policyConfig, IReadOnlyDictionary<string, string> users)
    {
        Require();
        var folder = Directory.CreateTempSubdirectory("floodgate-postfix-").FullName;

        // Postfix's daemons run as the postfix user and must reach the queue through this folder.
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        var postfix = new PostfixInstance(folder);
        try
        {
            await postfix.LaunchAsync(policyConfig, users);
        }
        catch
        {
            // Leave nothing running behind a failed start: the sink and any master that did start.
            await postfix.DisposeAsync();
            throw;
        }

        return postfix;
    }

    /// <summary>The non-comment lines of a deploy/postfix snippet, as a user would paste them into main.cf.</summary>
    public static string Snippet(string file) =>
        string.Join('\n', Repository.ReadFile(Path.Combine("deploy", "postfix", file)).Split('\n').Where(l => !l.TrimStart().StartsWith('#')));

    /// <summary>Messages in the hold queue, from `postqueue -j`.</summary>
    public async Task<List<QueuedMessage>> QueueAsync()
    {
        var output = await RunAsync("/usr/sbin/postqueue", $"-c {ConfigDirectory} -j");
        var messages = new List<QueuedMessage>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            messages.Add(new QueuedMessage(
                root.GetProperty("queue_name").GetString()!,
                root.GetProperty("queue_id").GetString()!,
                root.GetProperty("sender").GetString()!,
                [.. root.GetProperty("recipients").EnumerateArray().Select(r => r.GetProperty("address").GetString()!)]));
        }

        return messages;
    }

    /// <summary>Messages the sink received, each as its header block.</summary>
    public List<string> Delivered() =>
        [.. Directory.EnumerateFiles(SinkDirectory).Select(f => File.ReadAllText(f)).Select(t => t[..Math.Max(0, t.IndexOf("\n\n", StringComparison.Ordinal))])];

    /// <summary>Waits until nothing is waiting for delivery (only held or deferred mail remains).</summary>
    public async Task SettleAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var queue = await QueueAsync();
            var busy = queue.Count(m => m.Queue is "active" or "incoming" or "maildrop");
            if (busy == 0)
            {
                return;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Postfix still has {busy} messages in flight after {timeout}");
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_masterPid > 0)
        {
            // Stop by process id: the master takes its daemons down with it.
            await RunAsync("/bin/kill", $"-TERM {_masterPid}", check: false);
            for (var i = 0; i < 100 && Directory.Exists($"/proc/{_masterPid}"); i++)
            {
                await Task.Delay(100);
            }
        }

        if (_sink is { HasExited: false })
        {
            _sink.Kill(entireProcessTree: true);
            await _sink.WaitForExitAsync();
        }

        _sink?.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task LaunchAsync(string policyConfig, IReadOnlyDictionary<string, string> users)
    {
        Directory.CreateDirectory(ConfigDirectory);
        Directory.CreateDirectory(Path.Combine(ConfigDirectory, "sasl"));
        Directory.CreateDirectory(QueueDirectory);
        Directory.CreateDirectory(Path.Combine(Folder, "data"));
        Directory.CreateDirectory(SinkDirectory);
        await RunAsync("/bin/chown", $"postfix {Path.Combine(Folder, "data")} {SinkDirectory}");

        SmtpPort = FreePort.Next();
        var sinkPort = SinkPort = FreePort.Next();
        File.WriteAllText(Path.Combine(ConfigDirectory, "master.cf"), Floodgate.Fixtures.PostfixMasterCf.For($"127.0.0.1:{SmtpPort}"));
        // The snippets name /etc/postfix/floodgate-clients.cidr, as a user installs it; this instance has its own copy.
        var clients = Path.Combine(ConfigDirectory, "floodgate-clients.cidr");
        File.WriteAllText(clients, Repository.ReadFile(Path.Combine("deploy", "postfix", "floodgate-clients.cidr")));
        policyConfig = policyConfig.Replace("/etc/postfix/floodgate-clients.cidr", clients, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(ConfigDirectory, "main.cf"), MainCf(sinkPort) + "\n# Floodgate\n" + policyConfig + "\n");

        // Debian's Postfix reads Cyrus settings from $config_directory/sasl/smtpd.conf (cyrus_sasl_config_path).
        var sasldb = Path.Combine(Folder, "sasldb2");
        File.WriteAllText(Path.Combine(ConfigDirectory, "sasl", "smtpd.conf"),
            $"pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: {sasldb}\n");
        foreach (var (user, password) in users)
        {
            await RunAsync("/usr/sbin/saslpasswd2", $"-c -p -f {sasldb} -u {Domain} {user}", stdin: password);
        }

        if (users.Count > 0)
        {
            await RunAsync("/bin/chown", $"postfix {sasldb}");
        }

        _sink = Process.Start(new ProcessStartInfo("/usr/sbin/smtp-sink", $"-u postfix -d {SinkDirectory}/%M. 127.0.0.1:{sinkPort} 64")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;

        await RunAsync("/usr/sbin/postfix", $"-c {ConfigDirectory} check");
        await RunAsync("/usr/sbin/postfix", $"-c {ConfigDirectory} start");
        var pidFile = Path.Combine(QueueDirectory, "pid", "master.pid");
        for (var i = 0; i < 100 && _masterPid == 0; i++)
        {
            // The master holds a lock on its pid file that .NET's own file locking would trip over: read it with cat.
            if (File.Exists(pidFile) && int.TryParse((await RunAsync("/bin/cat", pidFile, check: false)).Trim(), out var pid))
            {
                _masterPid = pid;
            }
            else
            {
                await Task.Delay(100);
            }
        }

        if (_masterPid == 0)
        {
            throw new InvalidOperationException($"Postfix did not start; its log:\n{MailLog}");
        }

        await WaitForPortAsync(SmtpPort);
    }

    private string MainCf(int sinkPort) => $"""
        compatibility_level = 3.6
        queue_directory = {QueueDirectory}
        data_directory = {Path.Combine(Folder, "data")}
        mail_owner = postfix
        setgid_group = postdrop
        inet_interfaces = 127.0.0.1
        inet_protocols = ipv4
        myhostname = mx.{Domain}
        mydomain = {Domain}
        myorigin = {Domain}
        mydestination =
        local_transport = error:local delivery is disabled
        alias_maps =
        alias_database =
        mynetworks = 127.0.0.0/8
        relayhost = [127.0.0.1]:{sinkPort}
        smtpd_sasl_auth_enable = yes
        smtpd_sasl_type = cyrus
        smtpd_sasl_path = smtpd
        cyrus_sasl_config_path = {Path.Combine(ConfigDirectory, "sasl")}
        smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
        smtpd_tls_security_level = none
        smtp_tls_security_level = none
        maillog_file_prefixes = {Folder}
        maillog_file = {Path.Combine(Folder, "maillog")}
        default_process_limit = 40
        smtp_destination_concurrency_limit = 10
        """;

    private static async Task WaitForPortAsync(int port)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException($"Postfix's smtpd did not listen on 127.0.0.1:{port}");
    }

    public static async Task<string> RunAsync(string program, string arguments, string? stdin = null, bool check = true)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
        };
        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {arguments} exited {process.ExitCode}: {await error}{await output}");
        }

        return await output;
    }
}
