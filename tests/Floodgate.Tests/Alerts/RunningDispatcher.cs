using Floodgate.Alerts;
using Floodgate.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Floodgate.Tests.Alerts;

/// <summary>An AlertDispatcher over the channels its options configure, run by its hosted service, its log collected.</summary>
internal sealed class RunningDispatcher : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;
    private readonly AlertDispatcherService _service;

    private RunningDispatcher(AlertOptions options)
    {
        _loggers = LoggerFactory.Create(b => b.AddProvider(Logs));
        Dispatcher = new AlertDispatcher(options, AlertChannels.From(options, TimeProvider.System), TimeProvider.System,
            _loggers.CreateLogger<AlertDispatcher>());
        _service = new AlertDispatcherService(Dispatcher);
    }

    public AlertDispatcher Dispatcher { get; }

    public LogCollector Logs { get; } = new();

    public static async Task<RunningDispatcher> StartAsync(AlertOptions options)
    {
        var running = new RunningDispatcher(options);
        await running._service.StartAsync(CancellationToken.None);
        return running;
    }

    public int LinesWith(string text) => Logs.Lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await _service.StopAsync(CancellationToken.None);
        _service.Dispose();
        Dispatcher.Dispose();
        _loggers.Dispose();
    }
}
