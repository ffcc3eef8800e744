using System.CommandLine;
using Floodgate.Behaviour;
using Floodgate.Configuration;
using Floodgate.Storage;

namespace Floodgate.Cli;

/// <summary>`floodgate learn`: seeds each account's behaviour profile from the mail server's past logs, so a new installation knows its users on day one.</summary>
public static class LearnCommand
{
    public static Command Build()
    {
        var arguments = new LogCommandArguments("learn", "Configuration naming the store the profiles go to");
        var command = new Command("learn",
            "Learn each account's usual sending (volume, hours, networks, recipients) from past mail server logs into the profiles of the store the configuration names (data_dir or Redis); run it before `floodgate serve`, which would overwrite profiles it holds.");
        arguments.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            if (await arguments.ResolveAsync(parse) is not { } resolved)
            {
                return 2;
            }

            var (options, files) = resolved;

            if (!options.Behaviour.Enabled)
            {
                await error.WriteLineAsync($"floodgate learn: note: behaviour is off in {options.Source} (no behaviour: section, or enabled: false): the profiles are learned but not used until it is on");
            }

            using var database = options.Store == StoreKind.Embedded ? FloodgateDatabase.Open(options.DataDirectory) : null;
            await using var redis = options.Store == StoreKind.Redis ? await RedisStore.ConnectAsync(options.Redis) : null;
            IProfileStore store = redis is not null ? new RedisProfiles(redis) : new SqliteProfiles(database!);
            var watch = new BehaviourWatch(options.Behaviour);
            try
            {
                watch.Load(store.LoadAll());
            }
            catch (Exception e) when (RedisStore.IsOutage(e))
            {
                await error.WriteLineAsync($"floodgate learn: redis at {options.Redis.Connection} cannot be reached: {e.Message}");
                return 1;
            }

            long learned = 0, skipped = 0;
            var stats = await arguments.ReadAsync(parse, files, message =>
            {
                // What an account sent and the server accepted; inbound mail and mail without a login is nobody's habit.
                if (message.IsInbound || message.Action == "reject" || message.Login is null)
                {
                    skipped++;
                    return Task.CompletedTask;
                }

                watch.Learn(message.ToSubmission());
                learned++;
                return Task.CompletedTask;
            }, () => $"{learned} messages learned");
            var saved = watch.SaveTo(store);
            var ready = watch.Profiles.Count(p => p.HasHistory(options.Behaviour));
            var where = redis is not null ? $"redis {options.Redis.Connection} ({options.Redis.KeyPrefix}behaviour:profiles)" : Path.Combine(options.DataDirectory, FloodgateDatabase.FileName);
            await output.WriteLineAsync($"{stats.Lines} log lines, {learned} messages learned ({skipped} inbound, refused or without a login left out); "
                + $"{saved} profiles saved to {where}; {ready} of {watch.Count} accounts have enough history to be scored "
                + $"({options.Behaviour.MinMessages} messages over {options.Behaviour.MinDays} days)");
            return 0;
        });
        return command;
    }
}
