using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Floodgate.Tests.Alerts;

/// <summary>A chat server's incoming webhook on 127.0.0.1: Kestrel recording each POST and answering what the test says.</summary>
internal sealed class HookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private HookReceiver(WebApplication app)
    {
        _app = app;
    }

    /// <summary>Each request received: its path, content type and body, in arrival order.</summary>
    public ConcurrentQueue<(string Path, string? ContentType, string Body)> Received { get; } = new();

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The subject of each alert received (JSON bodies with a "subject"), in arrival order.</summary>
    public List<string> Subjects() =>
        [.. Received.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement).Where(j => j.TryGetProperty("subject", out _))
            .Select(j => j.GetProperty("subject").GetString()!)];

    public Uri Url(string path) => new(new Uri(_app.Urls.First()), path);

    /// <summary>Starts the receiver; <paramref name="answer"/> gets the request's number (1, 2...) and returns the status to send.</summary>
    public static async Task<HookReceiver> StartAsync(Func<int, CancellationToken, Task<int>> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new HookReceiver(app);
        app.Run(async context =>
        {
            var number = Interlocked.Increment(ref receiver._requests);
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
            receiver.Received.Enqueue((context.Request.Path.Value ?? "", context.Request.ContentType, body));
            context.Response.StatusCode = await answer(number, context.RequestAborted);
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
