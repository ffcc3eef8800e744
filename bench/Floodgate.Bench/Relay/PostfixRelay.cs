using Floodgate.Bench.Load;
using Floodgate.Bench.Peers;

namespace Floodgate.Bench.Relay;

/// <summary>
/// A private Postfix from the Debian package relaying everything to the sink: its own config directory and queue
/// in a temporary folder, smtpd on a loopback port, <c>relayhost = [127.0.0.1]:SINK</c>, no local delivery, its
/// other settings Debian's defaults (queue files written and fsynced like any Postfix). Started with
/// <c>postfix -c DIR start</c> (as root, as Postfix requires), stopped by signalling its master by process id; the
/// system's own Postfix is never touched.
/// </summary>
internal sealed class PostfixRelay(string directory, CountingSink sink) : RelayUnderTest("Postfix", sink)
{
    public const string Program = "/usr/sbin/postfix";

    private int _masterPid;

    private string ConfigDirectory => Path.Combine(directory, "conf");

    private string QueueDirectory => Path.Combine(directory, "queue");

    private string MailLog => Path.Combine(directory, "maillog");

    public override async Task StartAsync(TimeSpan timeout, CancellationToken cancel)
    {
        Endpoint = Loopback.FreeEndpoint();

        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(ConfigDirectory);
        Directory.CreateDirectory(QueueDirectory);
        var data = Directory.CreateDirectory(Path.Combine(directory, "data")).FullName;
        await PolicyServer.GiveToAsync(data, "postfix", "postfix", cancel);
        await File.WriteAllTextAsync(Path.Combine(ConfigDirectory, "main.cf"), MainCf(data), cancel);
        await File.WriteAllTextAsync(Path.Combine(ConfigDirectory, "master.cf"), Floodgate.Fixtures.PostfixMasterCf.For(Endpoint.ToString()), cancel);
        Setup = $"{Program} -c {ConfigDirectory} start\nmain.cf:\n{MainCf(data)}\nmaster.cf: Debian's services, smtpd on {Endpoint}";

        await RunAsync(Program, ["-c", ConfigDirectory, "check"], cancel);
        await RunAsync(Program, ["-c", ConfigDirectory, "start"], cancel);
        var pidFile = Path.Combine(QueueDirectory, "pid", "master.pid");
        for (var i = 0; i < 100 && _masterPid == 0; i++)
        {
            // The master locks its pid file in a way .NET's own file sharing checks trip over: read it with cat.
            var (code, text) = await ChildProcess.RunAsync("/bin/cat", [pidFile], TimeSpan.FromSeconds(5), cancel);
            if (code == 0 && int.TryParse(text.Trim(), out var pid))
            {
                _masterPid = pid;
            }
            else
            {
                await Task.Delay(100, cancel);
            }
        }

        await Loopback.WaitForListenerAsync(Name, Endpoint, Failure, timeout, cancel);
    }

    public override string? Failure() =>
        _masterPid != 0 && !Directory.Exists($"/proc/{_masterPid}")
            ? $"its master process {_masterPid} is gone; {MailLog}:\n{Tail()}"
            : _masterPid == 0 && File.Exists(MailLog) && Tail().Contains("fatal", StringComparison.Ordinal) ? Tail() : null;

    public override async ValueTask DisposeAsync()
    {
        if (_masterPid == 0)
        {
            return;
        }

        // The master takes its daemons down with it.
        await ChildProcess.RunAsync("/bin/kill", ["-TERM", $"{_masterPid}"], TimeSpan.FromSeconds(10), CancellationToken.None);
        for (var i = 0; i < 100 && Directory.Exists($"/proc/{_masterPid}"); i++)
        {
            await Task.Delay(100);
        }
    }

    private string Tail() => File.Exists(MailLog) ? string.Join('\n', File.ReadLines(MailLog).TakeLast(10)) : "";

    private static async Task RunAsync(string program, string[] arguments, CancellationToken cancel)
    {
        var (code, output) = await ChildProcess.RunAsync(program, arguments, TimeSpan.FromSeconds(60), cancel);
        if (code != 0)
        {
            throw new PeerException($"{program} {string.Join(' ', arguments)} exited with {code}: {output}");
        }
    }

    private string MainCf(string data) => $"""
        compatibility_level = 3.6
        queue_directory = {QueueDirectory}
        data_directory = {data}
        mail_owner = postfix
        setgid_group = postdrop
        inet_interfaces = 127.0.0.1
        inet_protocols = ipv4
        myhostname = postfix.bench.floodgate.test
        mydomain = bench.floodgate.test
        mydestination =
        local_transport = error:local delivery is disabled
        alias_maps =
        alias_database =
        mynetworks = 127.0.0.0/8
        relayhost = [{Sink.Endpoint.Address}]:{Sink.Endpoint.Port}
        smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
        smtpd_tls_security_level = none
        smtp_tls_security_level = none
        maillog_file_prefixes = {directory}
        maillog_file = {MailLog}

        """;
}
