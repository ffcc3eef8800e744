using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Pipeline;
using Floodgate.Tests.Dashboard;
using Floodgate.Tests.Support;

namespace Floodgate.Tests.Pipeline;

/// <summary>
/// The seam of the decision pipeline: a new enforcement point is a parser and a renderer. This one speaks a line
/// protocol of its own ("LOGIN SENDER RECIPIENTS" in, "OK" / "HOLD ..." / "LATER ..." / "NO ..." out) and gets limits,
/// suspension, incidents, the decision log and metrics without wiring any of them.
/// </summary>
public class ToyListenerTests
{
    [Fact]
    public async Task ToyListener_GetsLimitsSuspensionIncidentsLogAndMetrics_FromThePipelineAlone()
    {
        await using var server = await TestServer.StartAsync("limits:\n  - { name: hourly, scope: account, unit: messages, max: 3, per: 1h, action: suspend }\n");
        var pipeline = server.Service<DecisionPipeline>();
        var point = new EnforcementPoint("toy", new ToyRenderer(), []);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serving = ServeAsync(listener, pipeline, point);

        using var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var answers = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes("mallory@example.com mallory@example.com 2\n"));
            answers.Add((await reader.ReadLineAsync())!);
        }

        client.Close();
        await serving;

        Assert.Equal(["OK", "OK", "OK"], answers[..3]);
        Assert.StartsWith("HOLD account:mallory@example.com has sent 3 of 3 messages", answers[3], StringComparison.Ordinal);
        Assert.StartsWith("HOLD account:mallory@example.com is suspended", answers[4], StringComparison.Ordinal);
        var incident = Assert.Single(server.Service<IncidentBook>().OpenIncidents);
        Assert.Equal("account:mallory@example.com", incident.Identity.ToString());
        Assert.Contains(server.DecisionLines, l => l.Contains(" listener=toy verdict=hold rule=hourly account=mallory@example.com", StringComparison.Ordinal));

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        var metrics = PrometheusText.Parse(await http.GetStringAsync(server.AdminUrl + "metrics"));
        Assert.Equal(3, PrometheusText.Sum(metrics, "floodgate_decisions_total", "listener=\"toy\"", "verdict=\"accept\""));
        Assert.Equal(2, PrometheusText.Sum(metrics, "floodgate_decisions_total", "listener=\"toy\"", "verdict=\"hold\""));
    }

    // The whole listener: read a line, parse it into a Submission, ask the pipeline, write its answer.
    private static async Task ServeAsync(TcpListener listener, DecisionPipeline pipeline, EnforcementPoint point)
    {
        using var connection = await listener.AcceptTcpClientAsync();
        using var stream = connection.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var scratch = pipeline.NewScratch(point);
        while (await reader.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ');
            var submission = new Submission(parts[0], parts[1], int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture), 0,
                "192.0.2.1", DateTimeOffset.UtcNow);
            await pipeline.DecideAsync(point, submission, DecisionStage.Count, scratch, "LINE");
            await stream.WriteAsync(scratch.Answer.ToArray());
        }
    }

    private sealed class ToyRenderer : IVerdictRenderer
    {
        public int MaxAnswerBytes => 1024;

        public int Render(in Submission submission, in Decision decision, Span<byte> destination, out Range action)
        {
            var text = decision.Verdict switch
            {
                Verdict.Accept => "OK",
                Verdict.Hold => "HOLD " + decision.Reason,
                Verdict.Defer => "LATER " + decision.Reason,
                _ => "NO " + decision.Reason,
            };
            var length = Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, 1000)), destination);
            action = ..length;
            destination[length] = (byte)'\n';
            return length + 1;
        }
    }
}
