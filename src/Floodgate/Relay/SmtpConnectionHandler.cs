using System.Collections.Concurrent;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Floodgate.Engine;
using Microsoft.AspNetCore.Connections;

namespace Floodgate.Relay;

/// <summary>
/// Serves the SMTP relay on one endpoint: enforces the total, per-address (IPv6 per /64) and untrusted connection
/// limits, then runs one <see cref="SmtpSession"/> per connection. A broken session ends only its own connection.
/// </summary>
public sealed partial class SmtpConnectionHandler : ConnectionHandler
{
    private readonly RelayOptions _options;
    private readonly RelayIntake _intake;
    private readonly RelayPassword _passwords;
    private readonly X509Certificate2? _certificate;
    private readonly TimeProvider _time;
    private readonly ILogger<SmtpConnectionHandler> _logger;
    private readonly string _endpoint;
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private int _connections;
    private int _untrusted;

    public SmtpConnectionHandler(RelayOptions options, RelayIntake intake, RelayPassword passwords, X509Certificate2? certificate, TimeProvider time,
        ILogger<SmtpConnectionHandler> logger, string endpoint, CancellationToken stopping)
    {
        _options = options;
        _intake = intake;
        _passwords = passwords;
        _certificate = certificate;
        _time = time;
        _logger = logger;
        _endpoint = endpoint;
        _stopping = stopping;
    }

    /// <summary>Connections open on this endpoint now.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public string Endpoint => _endpoint;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var client = (connection.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.Loopback;
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        // One address is an IPv4 address or an IPv6 /64: a client given a /64 must not count as 2^64 clients.
        var block = ClientBlock.Of(client);
        var trusted = _options.Networks.Any(n => n.Contains(client));
        var total = Interlocked.Increment(ref _connections);
        var fromAddress = _perAddress.AddOrUpdate(block, 1, static (_, n) => n + 1);
        var slot = trusted ? null : new UntrustedSlot(this);
        try
        {
            var which = total > _options.MaxConnections ? $"{_options.MaxConnections} in all"
                : fromAddress > _options.MaxConnectionsPerAddress ? $"{_options.MaxConnectionsPerAddress} from {client}"
                : slot is not null && slot.Count > _options.UntrustedConnections ? $"{_options.UntrustedConnections} from untrusted clients not logged in"
                : null;
            if (which is not null)
            {
                LogTooManyConnections(_endpoint, client.ToString(), which);
                await connection.Transport.Output.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                    $"421 4.7.0 {_options.Hostname} Too many connections ({which}); try again later\r\n"), _stopping);
                return;
            }

            // Blocking file work (the spool's fsyncs) must not run on the socket thread Kestrel may call us on.
            await Task.Yield();
            var session = new SmtpSession(_options, _intake, _passwords, _certificate, client, connection.Transport, _time, _logger, slot is null ? null : slot.Release);
            try
            {
                await session.RunAsync(_stopping);
                if (session.EndReason is { } reason)
                {
                    LogSessionEnded(_endpoint, client.ToString(), reason);
                }
            }
            catch (Exception e) when (e is ConnectionResetException or IOException or AuthenticationException or OperationCanceledException)
            {
                LogSessionBroken(_endpoint, client.ToString(), e.Message);
            }
            catch (Exception e)
            {
                LogSessionFailed(e, _endpoint, client.ToString());
            }
        }
        finally
        {
            slot?.Release();
            Interlocked.Decrement(ref _connections);
            if (_perAddress.AddOrUpdate(block, 0, static (_, n) => n - 1) <= 0)
            {
                _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(block, 0));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "relay {Endpoint}: refused a connection from {Client}: too many connections ({Which})")]
    private partial void LogTooManyConnections(string endpoint, string client, string which);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay {Endpoint}: session with {Client} ended: {Reason}")]
    private partial void LogSessionEnded(string endpoint, string client, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "relay {Endpoint}: session with {Client} failed")]
    private partial void LogSessionFailed(Exception e, string endpoint, string client);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay {Endpoint}: session with {Client} broken: {Problem}")]
    private partial void LogSessionBroken(string endpoint, string client, string problem);

    // A connection from outside relay.networks holds one untrusted slot until it logs in or leaves, whichever is first.
    private sealed class UntrustedSlot
    {
        private readonly SmtpConnectionHandler _handler;
        private int _held = 1;

        public UntrustedSlot(SmtpConnectionHandler handler)
        {
            _handler = handler;
            Count = Interlocked.Increment(ref handler._untrusted);
        }

        /// <summary>Untrusted connections counted when this one came, itself included.</summary>
        public int Count { get; }

        public void Release()
        {
            if (Interlocked.Exchange(ref _held, 0) == 1)
            {
                Interlocked.Decrement(ref _handler._untrusted);
            }
        }
    }
}
