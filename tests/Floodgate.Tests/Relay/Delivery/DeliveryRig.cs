using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Floodgate.Relay;
using Floodgate.Relay.Delivery;
using Floodgate.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Floodgate.Tests.Relay.Delivery;

/// <summary>A spool in a temporary folder and a started outbound queue delivering it to a loopback next hop.</summary>
internal sealed class DeliveryRig : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private readonly ILoggerFactory _loggers;

    private DeliveryRig(string folder, NextHopOptions options)
    {
        Folder = folder;
        Spool = new MessageSpool(Path.Combine(folder, "spool"));
        Logs = new LogCollector();
        _loggers = LoggerFactory.Create(b => b.AddProvider(Logs));
        Queue = new OutboundQueue(Spool, options, "relay.floodgate.test", TimeProvider.System, _loggers.CreateLogger<OutboundQueue>());
        Queue.RecipientsRefused += (message, failures) =>
        {
            lock (Refused)
            {
                Refused.AddRange(failures.Select(f => (message.Id, f)));
            }
        };
    }

    /// <summary>A scratch folder for the spool and the next hop's dumps.</summary>
    public string Folder { get; }

    public MessageSpool Spool { get; }

    public OutboundQueue Queue { get; }

    public LogCollector Logs { get; }

    public List<(string Id, RecipientFailure Failure)> Refused { get; } = [];

    /// <summary>Files left in the spool directory (content and envelopes).</summary>
    public string[] SpoolFiles => Directory.GetFiles(Spool.Directory);

    /// <summary>
    /// The envelopes in the spool as the queue last saved them, read the way an admin would (not with Recover, which
    /// would clean up the queue's half-written files under its feet).
    /// </summary>
    public List<SpooledMessage> Envelopes()
    {
        var envelopes = new List<SpooledMessage>();
        foreach (var path in Directory.GetFiles(Spool.Directory, "*.json"))
        {
            try
            {
                envelopes.Add(JsonSerializer.Deserialize<SpooledMessage>(File.ReadAllBytes(path), Json)!);
            }
            catch (FileNotFoundException)
            {
                // Delivered and removed since the listing.
            }
        }

        return envelopes;
    }

    public static async Task<DeliveryRig> StartAsync(NextHopOptions options)
    {
        var rig = new DeliveryRig(Directory.CreateTempSubdirectory("floodgate-delivery-").FullName, options);
        await rig.Queue.StartAsync(CancellationToken.None);
        return rig;
    }

    /// <summary>A loopback next hop with retries short enough for tests (200 ms doubling up to 1 s).</summary>
    public static NextHopOptions NextHop(int port, NextHopTls tls) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        Tls = tls,
        Concurrency = 2,
        RetryDelay = TimeSpan.FromMilliseconds(200),
        MaxRetryDelay = TimeSpan.FromSeconds(1),
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>A small message with a Message-ID the tests find it by.</summary>
    public static byte[] Message(string tag, string to = "bob@floodgate.test") => Encoding.UTF8.GetBytes(
        $"From: Alice <alice@floodgate.test>\r\nTo: {to}\r\nSubject: message {tag}\r\nMessage-ID: <{tag}@floodgate.test>\r\n" +
        $"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nHello, this is message {tag}.\r\n");

    /// <summary>Writes a message into the spool the way the relay does, then hands it to the queue.</summary>
    public async Task<SpooledMessage> SpoolAsync(byte[] content, string sender, string[] recipients, DateTimeOffset? receivedAt = null)
    {
        await using var writer = Spool.Create();
        await writer.Content.WriteAsync(content);
        var message = new SpooledMessage
        {
            Id = writer.Id,
            State = SpoolState.Queued,
            Sender = sender,
            Recipients = recipients,
            ClientAddress = "127.0.0.1",
            ReceivedAt = receivedAt ?? DateTimeOffset.UtcNow,
            Size = content.Length,
        };
        await Spool.CommitAsync(writer, message);
        Queue.Enqueue(message);
        return message;
    }

    public async ValueTask DisposeAsync()
    {
        await Queue.DisposeAsync();
        _loggers.Dispose();
        Spool.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
