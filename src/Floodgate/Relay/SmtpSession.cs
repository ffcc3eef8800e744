using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Floodgate.Relay;

/// <summary>
/// One SMTP dialogue: reads command lines from the connection, checks each against <see cref="SmtpStateTable"/>,
/// answers it, streams DATA into the spool and hands the finished message to the intake. A syntax error is an
/// answer, not an exception; too many of them end the session.
/// </summary>
internal sealed class SmtpSession
{
    private enum Step
    {
        Continue,
        Close,
        StartTls,
        Data,

        /// <summary>Answers are piling up (a client pipelining without reading): send them before reading on.</summary>
        Flush,

        /// <summary>A login to check: the slow hash runs off the connection's thread.</summary>
        Authenticate,
    }

    // A client may pipeline commands but must read the answers: this much unsent output pauses reading.
    private const int MaxUnflushedBytes = 64 * 1024;

    // However slowly a client trickles DATA in, a message must be complete within this.
    private static readonly TimeSpan DataDeadline = TimeSpan.FromMinutes(30);

    private enum AuthStep
    {
        None,
        Plain,
        LoginUser,
        LoginPassword,
    }

    private readonly RelayOptions _options;
    private readonly RelayIntake _intake;
    private readonly RelayPassword _passwords;
    private readonly X509Certificate2? _certificate;
    private readonly IPAddress _client;
    private readonly bool _trustedNetwork;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<string> _recipients = [];
    private PipeReader _input;
    private PipeWriter _output;
    private Stream? _tls;
    private SmtpState _state = SmtpState.Connected;
    private AuthStep _authStep;
    private string? _authUser;
    private string? _helo;
    private string? _login;
    private string _sender = "";
    private int _badCommands;
    private bool _discardingLine;
    private int _unflushed;
    private (string User, string Password)? _pendingLogin;
    private readonly Action? _loggedIn;
    private CancellationTokenSource? _loginDeadline;

    // loggedIn: called once a client outside the relay's networks has logged in (it leaves the untrusted budget).
    public SmtpSession(RelayOptions options, RelayIntake intake, RelayPassword passwords, X509Certificate2? certificate, IPAddress client,
        IDuplexPipe transport, TimeProvider time, ILogger logger, Action? loggedIn = null)
    {
        _loggedIn = loggedIn;
        _options = options;
        _intake = intake;
        _passwords = passwords;
        _certificate = certificate;
        _client = client;
        _trustedNetwork = options.Networks.Any(n => n.Contains(client));
        _input = transport.Input;
        _output = transport.Output;
        _time = time;
        _logger = logger;
    }

    /// <summary>Why the session ended, for the log (null for a QUIT).</summary>
    public string? EndReason { get; private set; }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource();
        using var deadline = new CancellationTokenSource();
        _loginDeadline = deadline;

        // A client outside the relay's networks has login_timeout from its connect to log in: NOOP, RSET or EHLO do
        // not extend it, so idle strangers cannot keep their connections.
        if (!_trustedNetwork)
        {
            deadline.CancelAfter(_options.LoginTimeout);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping, deadline.Token);
        try
        {
            Reply($"220 {_options.Hostname} ESMTP Floodgate");
            await FlushAsync(timeout, linked.Token);
            while (true)
            {
                timeout.CancelAfter(_options.IdleTimeout);
                var read = await _input.ReadAsync(linked.Token);
                timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                var buffer = read.Buffer;
                var step = Step.Continue;
                try
                {
                    step = ReadCommands(ref buffer, read.IsCompleted);
                }
                finally
                {
                    // STARTTLS throws away anything the client pipelined after it (RFC 3207 section 4.2; CVE-2011-0411).
                    // Bytes left after DATA are the body: the next read must see them without waiting for more.
                    // Bytes left after a pause are commands still to answer, likewise.
                    _input.AdvanceTo(step == Step.StartTls ? buffer.End : buffer.Start,
                        step is Step.Data or Step.Flush or Step.Authenticate ? buffer.Start : buffer.End);
                }

                if (step == Step.Authenticate && !await AuthenticateAsync())
                {
                    step = Step.Close;
                }

                if (!await FlushAsync(timeout, linked.Token) || step == Step.Close)
                {
                    return;
                }

                if (step == Step.StartTls)
                {
                    await StartTlsAsync(linked.Token);
                    continue;
                }

                if (step == Step.Data)
                {
                    timeout.CancelAfter(_options.IdleTimeout);
                    var end = await ReadDataAsync(timeout, linked.Token);
                    timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                    if (!await FlushAsync(timeout, linked.Token) || end)
                    {
                        return;
                    }

                    continue;
                }

                if (read.IsCompleted && step == Step.Continue)
                {
                    EndReason = "client disconnected without QUIT";
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            EndReason = "Floodgate is stopping";
            Reply($"421 4.3.2 {_options.Hostname} Service shutting down, closing connection");
            await TryFlushAsync();
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && _login is null)
        {
            EndReason = $"not logged in within {_options.LoginTimeout.TotalSeconds:0}s of connecting (outside relay.networks)";
            Reply($"421 4.7.0 {_options.Hostname} Clients outside this relay's networks must log in within {_options.LoginTimeout.TotalSeconds:0}s, closing connection");
            await TryFlushAsync();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            EndReason = $"idle (or not reading answers) for {_options.IdleTimeout.TotalSeconds:0}s";
            Reply($"421 4.4.2 {_options.Hostname} Timeout waiting for a command, closing connection");
            await TryFlushAsync();
        }
        finally
        {
            if (_tls is not null)
            {
                await _tls.DisposeAsync();
            }
        }
    }

    private Step ReadCommands(ref ReadOnlySequence<byte> buffer, bool completed)
    {
        while (true)
        {
            var newline = buffer.PositionOf((byte)'\n');
            if (newline is null)
            {
                if (buffer.Length > _options.MaxLineBytes)
                {
                    // No end of line within the limit: refuse it now and skip the rest of it as it arrives.
                    buffer = buffer.Slice(buffer.End);
                    if (!_discardingLine)
                    {
                        _discardingLine = true;
                        if (BadCommand($"500 5.5.2 Line too long (at most {_options.MaxLineBytes} bytes)"))
                        {
                            return Step.Close;
                        }
                    }
                }

                return completed && !buffer.IsEmpty ? Step.Close : Step.Continue;
            }

            var line = buffer.Slice(0, newline.Value);
            buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
            if (_discardingLine)
            {
                _discardingLine = false;
                continue;
            }

            if (line.Length > _options.MaxLineBytes)
            {
                if (BadCommand($"500 5.5.2 Line too long (at most {_options.MaxLineBytes} bytes)"))
                {
                    return Step.Close;
                }

                continue;
            }

            var bytes = line.IsSingleSegment ? line.FirstSpan : line.ToArray();

            // Only CRLF ends a command line (RFC 5321 2.3.8): a bare LF or CR is how one side is made to see a
            // different dialogue than the other (SMTP smuggling), like Postfix's smtpd_forbid_bare_newline.
            if (bytes.Length == 0 || bytes[^1] != (byte)'\r' || bytes[..^1].Contains((byte)'\r'))
            {
                if (BadCommand("500 5.5.2 Bare CR or LF in a command line: end every line with CRLF"))
                {
                    return Step.Close;
                }

                continue;
            }

            bytes = bytes[..^1];

            var step = _authStep != AuthStep.None ? Authenticate(Encoding.ASCII.GetString(bytes)) : Handle(SmtpCommand.Parse(bytes));
            if (step != Step.Continue)
            {
                return step;
            }

            if (_unflushed > MaxUnflushedBytes)
            {
                return Step.Flush;
            }
        }
    }

    private Step Handle(SmtpCommand command)
    {
        if (command.Verb == SmtpVerb.Unknown)
        {
            return BadCommand($"500 5.5.2 Command not recognized: {Printable(command.Name)}") ? Step.Close : Step.Continue;
        }

        if (!SmtpStateTable.TryNext(_state, command.Verb, out var next))
        {
            var hint = _state == SmtpState.Connected ? "send EHLO first" : command.Verb switch
            {
                SmtpVerb.Rcpt => "send MAIL first",
                SmtpVerb.Data => "send RCPT first",
                SmtpVerb.Mail => "a transaction is already open",
                _ => "not allowed now",
            };
            return BadCommand($"503 5.5.1 Bad sequence of commands: {hint}") ? Step.Close : Step.Continue;
        }

        var (ok, step) = command.Verb switch
        {
            SmtpVerb.Ehlo or SmtpVerb.Helo => Greet(command),
            SmtpVerb.Mail => Mail(command.Argument),
            SmtpVerb.Rcpt => Recipient(command.Argument),
            SmtpVerb.Data => Data(command.Argument),
            SmtpVerb.Rset => Done("250 2.0.0 Ok", reset: true),
            SmtpVerb.Noop => Done("250 2.0.0 Ok"),
            SmtpVerb.Vrfy => Done("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery"),
            SmtpVerb.Help => Done("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH"),
            SmtpVerb.Quit => Quit(),
            SmtpVerb.StartTls => StartTls(command.Argument),
            SmtpVerb.Auth => Auth(command.Argument),
            _ => (false, Step.Continue),
        };
        if (ok)
        {
            _state = next;
        }

        return step;
    }

    private (bool, Step) Done(string reply, bool reset = false)
    {
        if (reset)
        {
            ResetTransaction();
        }

        Reply(reply);
        return (true, Step.Continue);
    }

    private (bool, Step) Refuse(string reply, bool bad = true)
    {
        if (bad)
        {
            return (false, BadCommand(reply) ? Step.Close : Step.Continue);
        }

        Reply(reply);
        return (false, Step.Continue);
    }

    private (bool, Step) Quit()
    {
        Reply($"221 2.0.0 {_options.Hostname} Bye");
        return (true, Step.Close);
    }

    private (bool, Step) Greet(SmtpCommand command)
    {
        if (command.Argument.Length == 0 || command.Argument.Contains(' ', StringComparison.Ordinal))
        {
            return Refuse($"501 5.5.4 Syntax: {command.Name} hostname");
        }

        ResetTransaction();
        _helo = command.Argument;
        if (command.Verb == SmtpVerb.Helo)
        {
            Reply($"250 {_options.Hostname}");
            return (true, Step.Continue);
        }

        var lines = new List<string>
        {
            $"{_options.Hostname} greets {Printable(command.Argument)} [{_client}]",
            "PIPELINING",
            $"SIZE {_options.MaxMessageBytes}",
            "8BITMIME",
            "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
        };
        if (_tls is null && _certificate is not null)
        {
            lines.Add("STARTTLS");
        }

        // Logins only over TLS, so a password never crosses the network in the clear.
        if (_tls is not null && _passwords.Any && _login is null)
        {
            lines.Add("AUTH PLAIN LOGIN");
        }

        lines.Add("HELP");
        for (var i = 0; i < lines.Count; i++)
        {
            Reply($"250{(i == lines.Count - 1 ? ' ' : '-')}{lines[i]}");
        }

        return (true, Step.Continue);
    }

    private (bool, Step) Mail(string argument)
    {
        if (!_trustedNetwork && _login is null)
        {
            return Refuse("530 5.7.0 Authentication required: this relay accepts mail only from its own networks or after AUTH");
        }

        if (!SmtpPath.TryParse(argument, "FROM:", out var sender, out var parameters, out var error))
        {
            return Refuse($"501 5.5.4 {error}");
        }

        foreach (var (name, value) in parameters)
        {
            switch (name)
            {
                case "SIZE":
                    if (!long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size))
                    {
                        return Refuse("501 5.5.4 Syntax: SIZE=<number of bytes>");
                    }

                    if (size > _options.MaxMessageBytes)
                    {
                        return Refuse($"552 5.3.4 Message size exceeds fixed limit of {_options.MaxMessageBytes} bytes", bad: false);
                    }

                    break;
                case "BODY" when value is not null && (value.Equals("7BIT", StringComparison.OrdinalIgnoreCase) || value.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase)):
                case "SMTPUTF8" when value is null:
                case "AUTH":
                    break;
                default:
                    return Refuse($"555 5.5.4 Unsupported parameter {Printable(name)}");
            }
        }

        _sender = sender;
        Reply("250 2.1.0 Ok");
        return (true, Step.Continue);
    }

    private (bool, Step) Recipient(string argument)
    {
        if (!_trustedNetwork && _login is null)
        {
            return Refuse("554 5.7.1 Relay access denied");
        }

        if (!SmtpPath.TryParse(argument, "TO:", out var recipient, out var parameters, out var error) || recipient.Length == 0)
        {
            return Refuse($"501 5.5.4 {error ?? "Syntax: RCPT TO:<address> (the null address is not a recipient)"}");
        }

        if (parameters.Count > 0)
        {
            return Refuse($"555 5.5.4 Unsupported parameter {Printable(parameters[0].Key)}");
        }

        if (_recipients.Count >= _options.MaxRecipients)
        {
            // 452 makes the client send the rest in another transaction (RFC 5321 section 4.5.3.1.10).
            Reply($"452 4.5.3 Too many recipients (at most {_options.MaxRecipients} per message)");
            return (false, Step.Continue);
        }

        _recipients.Add(recipient);
        Reply("250 2.1.5 Ok");
        return (true, Step.Continue);
    }

    private (bool, Step) Data(string argument)
    {
        if (argument.Length > 0)
        {
            return Refuse("501 5.5.4 Syntax: DATA (no argument)");
        }

        Reply("354 End data with <CR><LF>.<CR><LF>");
        return (true, Step.Data);
    }

    private (bool, Step) StartTls(string argument)
    {
        if (_tls is not null || _certificate is null)
        {
            return Refuse(_tls is null ? "454 4.7.0 TLS not available" : "503 5.5.1 TLS already active");
        }

        if (argument.Length > 0)
        {
            return Refuse("501 5.5.4 Syntax: STARTTLS");
        }

        ResetTransaction();
        _helo = null;
        Reply("220 2.0.0 Ready to start TLS");
        return (true, Step.StartTls);
    }

    private async Task StartTlsAsync(CancellationToken cancellation)
    {
        var stream = new SslStream(new DuplexPipeStream(_input, _output), leaveInnerStreamOpen: false);
        using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
        {
            handshake.CancelAfter(TimeSpan.FromSeconds(30));
            await stream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, handshake.Token);
        }

        _tls = stream;
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    private (bool, Step) Auth(string argument)
    {
        if (_login is not null)
        {
            return Refuse("503 5.5.1 Already authenticated");
        }

        if (_tls is null || !_passwords.Any)
        {
            return Refuse(_passwords.Any
                ? "538 5.7.11 Encryption required for requested authentication mechanism: STARTTLS first"
                : "503 5.5.1 AUTH not available: this relay has no logins configured");
        }

        var parts = argument.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        var mechanism = parts.Length > 0 ? parts[0].ToUpperInvariant() : "";
        var initial = parts.Length > 1 ? (parts[1] == "=" ? "" : parts[1]) : null;
        switch (mechanism)
        {
            case "PLAIN" when initial is null:
                _authStep = AuthStep.Plain;
                Reply("334 ");
                return (true, Step.Continue);
            case "PLAIN":
                return (true, Authenticate(initial, AuthStep.Plain));
            case "LOGIN" when initial is null:
                _authStep = AuthStep.LoginUser;
                Reply("334 VXNlcm5hbWU6");
                return (true, Step.Continue);
            case "LOGIN":
                return (true, Authenticate(initial, AuthStep.LoginUser));
            default:
                return Refuse($"504 5.5.4 Unrecognized authentication mechanism {Printable(mechanism)} (PLAIN and LOGIN are offered)");
        }
    }

    private Step Authenticate(string response) => Authenticate(response, _authStep);

    private Step Authenticate(string response, AuthStep step)
    {
        _authStep = AuthStep.None;
        if (response == "*")
        {
            Reply("501 5.7.0 Authentication cancelled");
            return Step.Continue;
        }

        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(response));
        }
        catch (FormatException)
        {
            return BadCommand("501 5.5.2 Cannot decode the authentication response (base64 expected)") ? Step.Close : Step.Continue;
        }

        string user;
        string password;
        switch (step)
        {
            case AuthStep.LoginUser:
                _authUser = text;
                _authStep = AuthStep.LoginPassword;
                Reply("334 UGFzc3dvcmQ6");
                return Step.Continue;
            case AuthStep.LoginPassword:
                user = _authUser ?? "";
                password = text;
                break;
            default:
                // PLAIN: authorization identity NUL authentication identity NUL password (RFC 4616).
                var fields = text.Split('\0');
                if (fields.Length != 3 || (fields[0].Length > 0 && fields[0] != fields[1]))
                {
                    return BadCommand("535 5.7.8 Authentication credentials invalid") ? Step.Close : Step.Continue;
                }

                user = fields[1];
                password = fields[2];
                break;
        }

        _authUser = null;
        _pendingLogin = (user, password);
        return Step.Authenticate;
    }

    // PBKDF2 takes a good fraction of a second by design: it runs on the thread pool, and a client address that keeps
    // failing is answered 454 without hashing at all, so guessing is slow and cannot eat the CPU. The attempt is
    // reserved before the hash, so many parallel guesses from one address are not all checked.
    // False when the session must end (too many bad commands).
    private async Task<bool> AuthenticateAsync()
    {
        var (user, password) = _pendingLogin!.Value;
        _pendingLogin = null;
        if (!_passwords.TryBeginLogin(_client))
        {
            _logger.LogWarning("relay: AUTH from {Client} refused: too many failed logins from this address", _client);
            Reply("454 4.7.0 Too many failed logins from your address; try again later");
            return true;
        }

        if (!await Task.Run(() => _passwords.Verify(user, password, _client)))
        {
            // The user name is logged so an admin can see guessing; the password never is.
            _logger.LogWarning("relay: failed AUTH from {Client} as {User}", _client, Printable(user));
            return !BadCommand("535 5.7.8 Authentication credentials invalid");
        }

        _login = user;
        _loginDeadline?.CancelAfter(Timeout.InfiniteTimeSpan);
        _loggedIn?.Invoke();
        Reply("235 2.7.0 Authentication successful");
        return true;
    }

    // Reads the message body into the spool; true when the session must end.
    private async Task<bool> ReadDataAsync(CancellationTokenSource timeout, CancellationToken cancellation)
    {
        var receivedAt = _time.GetUtcNow();
        await using var writer = _intake.Spool.Create();
        await writer.Content.WriteAsync(Received(writer.Id, receivedAt), cancellation);
        var body = new MessageBodyReader(_options.MaxMessageBytes);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(DataDeadline);
        while (true)
        {
            ReadResult read;
            try
            {
                read = await _input.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                EndReason = $"DATA not finished within {DataDeadline.TotalMinutes:0} minutes";
                Reply($"421 4.4.2 {_options.Hostname} DATA took too long, closing connection");
                return true;
            }

            timeout.CancelAfter(_options.IdleTimeout);
            var buffer = read.Buffer;
            var done = false;
            try
            {
                done = body.Read(ref buffer, writer.Content);
            }
            finally
            {
                // Commands pipelined after the final dot (QUIT, the next MAIL) are read next without waiting.
                _input.AdvanceTo(buffer.Start, done ? buffer.Start : buffer.End);
            }

            if (done)
            {
                break;
            }

            if (read.IsCompleted)
            {
                // The message never ended: nothing was acknowledged, so nothing is kept.
                EndReason = "client disconnected in the middle of DATA";
                return true;
            }
        }

        var transaction = new RelayTransaction(_sender, [.. _recipients], _client, _helo, _login, receivedAt);
        ResetTransaction();
        if (body.Refused)
        {
            _logger.LogWarning("relay: refused a message from <{Sender}> ({Client}): a bare CR or LF, or a NUL, in its content", Printable(transaction.Sender), _client);
            Reply("550 5.6.0 Message refused: bare CR or LF, or NUL, in the content; end every line with CRLF (RFC 5321 section 2.3.8)");
            return false;
        }

        if (body.TooLarge)
        {
            Reply($"552 5.3.4 Message size exceeds fixed limit of {_options.MaxMessageBytes} bytes");
            return false;
        }

        if (body.WriteFailed)
        {
            _logger.LogError("relay: a message from <{Sender}> could not be written to the spool (disk full?); answered 451", Printable(transaction.Sender));
            Reply("451 4.3.0 Local error writing the message; please try again later");
            return false;
        }

        try
        {
            Reply(await _intake.AcceptAsync(transaction, writer));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Nothing was acknowledged: the client keeps the message and tries again.
            _logger.LogError(e, "relay: a message from <{Sender}> could not be taken in; answered 451", Printable(transaction.Sender));
            Reply("451 4.3.0 Local error in processing; please try again later");
        }

        return false;
    }

    private byte[] Received(string id, DateTimeOffset at)
    {
        var with = (_tls is null ? "ESMTP" : "ESMTPS") + (_login is null ? "" : "A");
        var text = $"Received: from {Printable(_helo ?? "unknown")} ([{_client}])\r\n\tby {_options.Hostname} (Floodgate) with {with} id {id}\r\n"
            + $"\t(envelope-from <{Printable(_sender)}>); {MimeKit.Utils.DateUtils.FormatDate(at)}\r\n";
        return Encoding.UTF8.GetBytes(text);
    }

    private void ResetTransaction()
    {
        _sender = "";
        _recipients.Clear();
    }

    // Counts a bad command and answers it; true (after a 421) when the session has had too many.
    private bool BadCommand(string reply)
    {
        if (++_badCommands > _options.MaxBadCommands)
        {
            Reply($"421 4.7.0 {_options.Hostname} Too many errors, closing connection");
            EndReason = $"more than {_options.MaxBadCommands} bad commands";
            return true;
        }

        Reply(reply);
        return false;
    }

    private async Task<bool> FlushAsync(CancellationTokenSource timeout, CancellationToken cancellation)
    {
        // A client that stops reading must not hold the connection (and its unsent answers) forever.
        _unflushed = 0;
        timeout.CancelAfter(_options.IdleTimeout);
        var result = await _output.FlushAsync(cancellation);
        timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        return !result.IsCompleted;
    }

    private void Reply(string line)
    {
        var count = Encoding.UTF8.GetByteCount(line);
        _unflushed += count + 2;
        var span = _output.GetSpan(count + 2);
        Encoding.UTF8.GetBytes(line, span);
        span[count] = (byte)'\r';
        span[count + 1] = (byte)'\n';
        _output.Advance(count + 2);
    }

    private async Task TryFlushAsync()
    {
        try
        {
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _output.FlushAsync(patience.Token);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            // The client is gone: nothing to tell it.
        }
    }

    private static string Printable(string text)
    {
        var cut = text.Length > 64 ? text[..64] + "..." : text;
        return string.Create(cut.Length, cut, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = char.IsControl(s[i]) ? '?' : s[i];
            }
        });
    }
}
