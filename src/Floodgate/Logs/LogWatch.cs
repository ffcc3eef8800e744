using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Pipeline;

namespace Floodgate.Logs;

/// <summary>
/// The log watch, the enforcement point for servers that cannot be asked inline (Kerio Connect): follows each
/// listen.log file and sends every message it logs through the decision pipeline as it is logged. It cannot stop a
/// message already sent, so it acts through suspension: incident, alert and the command hook (which can disable the
/// account in the mail server). Where it stopped is saved after every message, so a restart neither misses nor
/// counts again what was logged meanwhile.
/// </summary>
public sealed partial class LogWatch(DecisionPipeline pipeline, FloodgateOptions options, ILogger<LogWatch> logger) : BackgroundService
{
    /// <summary>How often the files are looked at for new lines.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private readonly EnforcementPoint _point = new("log", new VerdictNames("logged:"), options.TrustedNetworks);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(options.LogWatches.Select(w => Task.Run(() => FollowAsync(w, stoppingToken), stoppingToken)));

    private async Task FollowAsync(LogWatchOptions watch, CancellationToken stoppingToken)
    {
        using var follower = new LogFollower(watch.Path, Path.Combine(options.DataDirectory, "logwatch"));
        var reader = new KerioLogReader();
        var scratch = pipeline.NewScratch(_point);
        follower.Start();
        LogFollowing(watch.Path, watch.Format.ToString().ToLowerInvariant());
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var line in follower.Poll())
                {
                    foreach (var message in reader.Read(line))
                    {
                        if (!message.IsInbound)
                        {
                            var submission = message.ToSubmission();
                            await pipeline.DecideAsync(_point, submission, DecisionStage.Count, scratch, "LOG");

                            // Its bounces are known once it is logged: they count against its sender's next message.
                            await pipeline.CountFailedAsync(_point, submission, message.FailedRecipients);
                        }
                    }
                }

                follower.SaveState();
            }
            catch (IOException e)
            {
                LogReadFailed(e, watch.Path);
            }

            try
            {
                await Task.Delay(PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        follower.SaveState();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "log watch: following {Path} ({Format})")]
    private partial void LogFollowing(string path, string format);

    [LoggerMessage(Level = LogLevel.Error, Message = "log watch: reading {Path} failed; trying again")]
    private partial void LogReadFailed(Exception e, string path);
}
