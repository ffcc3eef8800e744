using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Floodgate.Demo;
using MimeKit;

namespace Floodgate.Tests.Demo;

public sealed partial class DemoTests
{
    [Fact]
    public async Task Demo_Summary_MatchesWhatTheNextHopReceived()
    {
        var output = new Narration();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var outcome = await DemoStory.RunAsync(output, quick: true, live: false, waitForEnter: false, timeout.Token);
        var text = output.Text;

        // What the next hop really got, read from the messages themselves.
        var received = outcome.NextHopReceived.Select(m => MimeMessage.Load(new MemoryStream(m.Content))).ToList();
        int From(string address) => received.Count(m => m.From.Mailboxes.Single().Address == address);
        var summary = Summary().Match(text);
        Assert.True(summary.Success, $"no summary line in:\n{text}");
        var delivered = int.Parse(summary.Groups["delivered"].Value, System.Globalization.CultureInfo.InvariantCulture);
        var purged = int.Parse(summary.Groups["purged"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(From(DemoStory.Hijacked), delivered);
        Assert.Equal(DemoStory.HourlyLimit, delivered);
        Assert.Equal(DemoStory.HijackedMessages - DemoStory.HourlyLimit, purged);
        Assert.Equal(2 * DemoStory.NormalMessages, From("alice@example.com") + From("bob@example.com"));
        Assert.Equal(DemoStory.NormalMessages, From("alice@example.com"));
        Assert.Equal("all delivered", summary.Groups["normal"].Value);
        Assert.Equal(received.Count, delivered + (2 * DemoStory.NormalMessages));

        // The story's beats, as a newcomer reads them.
        Assert.Matches(@"Dashboard while the demo runs: http://127\.0\.0\.1:\d+/ +password: \S{12,}", text);
        Assert.Contains($">>> ", text, StringComparison.Ordinal);
        Assert.Contains($"{DemoStory.Hijacked} SUSPENDED by limit hourly", text, StringComparison.Ordinal);
        Assert.Contains($"Subject: [Floodgate] account {DemoStory.Hijacked} suspended: over limit hourly", text, StringComparison.Ordinal);
        Assert.Contains($"floodgate release {DemoStory.Hijacked} --purge", text, StringComparison.Ordinal);
        Assert.Contains($"refused since: {purged} messages", text, StringComparison.Ordinal);
        Assert.Contains($"... {purged} held messages in all", text, StringComparison.Ordinal);
        Assert.Contains($"{DemoStory.Hijacked} released; {purged} held messages purged", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Folder(text)), "the demo's folder is still there");
    }

    [Fact]
    public async Task Demo_CancelledMidway_StopsItsFloodgateAndRemovesItsFolder()
    {
        var output = new Narration();
        using var cancel = new CancellationTokenSource();
        var run = DemoStory.RunAsync(output, quick: false, live: false, waitForEnter: false, cancel.Token);
        await output.Dashboard.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var text = output.Text;
        var port = int.Parse(Regex.Match(text, @"http://127\.0\.0\.1:(\d+)/").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Directory.Exists(Folder(text)));

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(Directory.Exists(Folder(text)), "the demo's folder is still there after Ctrl+C");
        using var probe = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync("127.0.0.1", port));
        Assert.Contains("Demo ended: its Floodgate is stopped", output.Text, StringComparison.Ordinal);
    }

    private static string Folder(string text) => Regex.Match(text, @"runs in (\S+)").Groups[1].Value;

    [GeneratedRegex(@"Summary: hijacked account: (?<delivered>\d+) delivered before containment, (?<purged>\d+) held and purged; normal users: (?<normal>[a-z ]+) \(")]
    private static partial Regex Summary();

    // The narration as the demo writes it, readable while it runs.
    private sealed class Narration : TextWriter
    {
        private readonly StringBuilder _text = new();

        public override Encoding Encoding => Encoding.UTF8;

        public TaskCompletionSource Dashboard { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public override void Write(char value) => Write(value.ToString());

        public override void Write(string? value)
        {
            lock (_text)
            {
                _text.Append(value);
                if (value?.Contains("Dashboard while the demo runs", StringComparison.Ordinal) == true)
                {
                    Dashboard.TrySetResult();
                }
            }
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }

        public override Task WriteLineAsync(string? value)
        {
            Write(value + "\n");
            return Task.CompletedTask;
        }

        public override Task WriteLineAsync()
        {
            Write("\n");
            return Task.CompletedTask;
        }
    }
}
