using System.Buffers;
using System.Text;
using Floodgate.Configuration;
using Floodgate.Policy;
using Floodgate.Relay;

namespace Floodgate.Fuzz;

/// <summary>
/// One component under the fuzzer: it takes any bytes and either parses them or fails with the component's own
/// error type; anything else it throws is a crash.
/// </summary>
public sealed class FuzzTarget
{
    private FuzzTarget(string name, string expected, Action<byte[]> run)
    {
        Name = name;
        Expected = expected;
        Run = run;
    }

    /// <summary>Every target, by the name `fuzz/run.sh` and the corpus folders use.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("policy", nameof(PolicyProtocolException), Policy),
        new("smtp", "none (a syntax error is a reply)", Smtp),
        new("data", "none (any body is read to its end or waits for more)", Data),
        new("config", nameof(ConfigException), Config),
    ];

    public string Name { get; }

    /// <summary>The error type that counts as a clear rejection of bad input.</summary>
    public string Expected { get; }

    /// <summary>Runs the component on one input; throws only for a crash.</summary>
    public Action<byte[]> Run { get; }

    public static FuzzTarget Named(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"no fuzz target '{name}' (targets: {string.Join(", ", All.Select(t => t.Name))})");

    // A connection's bytes as Postfix would send them, arriving in two reads split where the first byte says; what a
    // read leaves unparsed comes back in front of the next one, as the connection's pipe does.
    private static void Policy(byte[] input)
    {
        var parser = new PolicyRequestParser(4096, 64);
        var request = new PolicyRequest();
        try
        {
            var left = Array.Empty<byte>();
            foreach (var chunk in Reads(input))
            {
                var buffer = new ReadOnlySequence<byte>([.. left, .. chunk]);
                while (parser.TryParse(ref buffer, request))
                {
                    _ = request.SaslUsername;
                    _ = request.Sender;
                    _ = request.RecipientCount;
                }

                left = buffer.ToArray();
            }
        }
        catch (PolicyProtocolException)
        {
        }
    }

    // Each CRLF-ended line as a command; MAIL and RCPT arguments through the path parser.
    private static void Smtp(byte[] input)
    {
        foreach (var line in Lines(input))
        {
            var command = SmtpCommand.Parse(line);
            if (command.Verb is SmtpVerb.Mail or SmtpVerb.Rcpt)
            {
                var keyword = command.Verb == SmtpVerb.Mail ? "FROM:" : "TO:";
                if (SmtpPath.TryParse(command.Argument, keyword, out var address, out _, out var error) == (error is not null))
                {
                    throw new InvalidOperationException("SmtpPath.TryParse returned false without a reason, or true with one");
                }

                if (address.Length > SmtpPath.MaxAddressLength)
                {
                    throw new InvalidOperationException($"an address of {address.Length} characters was accepted");
                }
            }
        }
    }

    // A DATA body in two reads as for the policy target, with a size limit of 1 KB: what is written never exceeds what came in.
    private static void Data(byte[] input)
    {
        var reader = new MessageBodyReader(1024);
        using var output = new MemoryStream();
        var consumed = 0L;
        var left = Array.Empty<byte>();
        foreach (var chunk in Reads(input))
        {
            var buffer = new ReadOnlySequence<byte>([.. left, .. chunk]);
            var before = buffer.Length;
            var done = reader.Read(ref buffer, output);
            consumed += before - buffer.Length;
            if (done)
            {
                break;
            }

            left = buffer.ToArray();
        }

        if (output.Length > consumed || output.Length > 1024)
        {
            throw new InvalidOperationException($"{output.Length} content bytes written from {consumed} read (limit 1024)");
        }
    }

    private static void Config(byte[] input)
    {
        try
        {
            ConfigLoader.Parse(Encoding.UTF8.GetString(input), "fuzz.yml", environment: null);
        }
        catch (ConfigException)
        {
        }
    }

    private static byte[][] Reads(byte[] input)
    {
        var split = input.Length == 0 ? 0 : input[0] % (input.Length + 1);
        return [input[..split], input[split..]];
    }

    private static IEnumerable<byte[]> Lines(byte[] input)
    {
        var start = 0;
        for (var i = 0; i < input.Length; i++)
        {
            if (input[i] == (byte)'\n')
            {
                var end = i > start && input[i - 1] == (byte)'\r' ? i - 1 : i;
                yield return input[start..end];
                start = i + 1;
            }
        }

        if (start < input.Length)
        {
            yield return input[start..];
        }
    }
}
