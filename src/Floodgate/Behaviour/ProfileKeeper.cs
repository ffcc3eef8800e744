using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Quarantine;

namespace Floodgate.Behaviour;

/// <summary>
/// Keeps the behaviour profiles going between messages: ends each probation that is due (its score fell back after
/// the probation time) and releases the mail it held, and saves changed profiles to the store every
/// <see cref="BehaviourOptions.SaveEvery"/> and at shutdown.
/// </summary>
public sealed partial class ProfileKeeper(BehaviourWatch watch, IProfileStore store, HeldMail held, TimeProvider clock, ILogger<ProfileKeeper> logger)
    : BackgroundService
{
    /// <summary>How often due probations are looked for.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(10);

    /// <summary>Ends the probations due now and releases their held mail; returns them.</summary>
    public async Task<IReadOnlyList<ProbationEnded>> EndDueAsync()
    {
        var ended = new List<ProbationEnded>();
        watch.EndDue(clock.GetUtcNow(), ended);
        foreach (var end in ended)
        {
            var released = await held.ReleaseAsync(new Identity(Scope.Account, end.Account), ReleaseMode.Deliver, "floodgate (probation ended)");
            LogEnded(end.Account, end.Reason, released.Sum(r => r.Acted));
        }

        return ended;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var saved = clock.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Tick, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            try
            {
                await EndDueAsync();
                if (clock.GetUtcNow() - saved >= watch.Options.SaveEvery)
                {
                    saved = clock.GetUtcNow();
                    watch.SaveTo(store);
                }
            }
            catch (Exception e)
            {
                LogFailed(e);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            LogSaved(watch.SaveTo(store));
        }
        catch (Exception e)
        {
            LogFailed(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "PROBATION ENDED {Account}: {Reason} ({Released} released)")]
    private partial void LogEnded(string account, string reason, int released);

    [LoggerMessage(Level = LogLevel.Error, Message = "behaviour: ending probations or saving profiles failed; trying again")]
    private partial void LogFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "behaviour: {Count} changed profiles saved")]
    private partial void LogSaved(int count);
}
