using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floodgate.Configuration;

namespace Floodgate.Cli;

/// <summary>The admin verbs: status, accounts, suspend, release, incidents, exempt, quarantine; each calls the admin API.</summary>
public static class AdminCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly Option<string?> Config = new("--config", "-c") { Description = "Configuration file, to find the admin API and its token (default: $FLOODGATE_CONFIG, else the embedded default)" };
    private static readonly Option<string?> Url = new("--url") { Description = "Admin API address (default: http://<listen.admin>)" };
    private static readonly Option<string?> Token = new("--token") { Description = "Admin token (default: $FLOODGATE_TOKEN, else DATA_DIR/admin.token)" };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the API's JSON instead of a table" };

    public static IEnumerable<Command> All() => [Status(), Reload(), Accounts(), Suspend(), Release(), Held(), Incidents(), Exempt(), QuarantineCommands.Build()];

    internal static Command Verb(string name, string description, Func<ParseResult, AdminClient, TextWriter, Task> run, params Symbol[] symbols)
    {
        var command = new Command(name, description) { Config, Url, Token, Json };
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Option option:
                    command.Options.Add(option);
                    break;
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
            }
        }

        command.SetAction(async (parse, _) =>
        {
            try
            {
                var config = parse.GetValue(Config) ?? Environment.GetEnvironmentVariable("FLOODGATE_CONFIG");
                using var client = AdminClient.Create(config, parse.GetValue(Url), parse.GetValue(Token));
                await run(parse, client, parse.InvocationConfiguration.Output);
                return 0;
            }
            catch (CliException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"floodgate {name}: {e.Message}");
                return 1;
            }
            catch (ConfigException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"floodgate {name}: the configuration cannot be used:{Environment.NewLine}{e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static Command Status() => Verb("status", "Show whether Floodgate is running, its listeners, suspensions and open incidents.", async (parse, client, output) =>
    {
        var health = await client.GetAsync("api/health");
        if (Print(parse, output, health))
        {
            return;
        }

        output.WriteLine($"floodgate: {health["status"]}; {health["suspended"]} suspended, {health["open_incidents"]} open incidents, {health["tracked_identities"]} identities counted");
        var observed = health["observed_limits"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        output.WriteLine(health["mode"]?.GetValue<string>() == "observe" ? "  mode: observe (nothing is enforced)"
            : observed.Count > 0 ? $"  mode: enforce (observe only: {string.Join(", ", observed)})" : "  mode: enforce");
        foreach (var listener in health["policy"]!.AsArray())
        {
            output.WriteLine($"  policy {listener!["endpoint"]}: {listener["connections"]} connections");
        }

        foreach (var limit in health["limits"]!.AsArray())
        {
            output.WriteLine($"  limit {limit}");
        }
    });

    private static Command Reload() => Verb("reload",
        "Make the running Floodgate read its configuration file again (as systemctl reload does): applies mode (enforce or observe) and each limit's mode; names the changed keys that need a restart. A file with errors is refused and the running configuration stays.",
        async (parse, client, output) =>
        {
            var done = await client.PostAsync("api/reload", new { });
            if (Print(parse, output, done))
            {
                return;
            }

            var observed = done["observed_limits"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            var restart = done["restart_needed"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            output.WriteLine($"reloaded: mode {done["mode"]}{(done["mode"]!.GetValue<string>() == "observe" ? " (nothing is enforced)" : observed.Count > 0 ? $"; observe only: {string.Join(", ", observed)}" : "")}");
            if (restart.Count > 0)
            {
                output.WriteLine($"changed, but applied only by a restart: {string.Join(", ", restart)}");
            }
        });

    private static Command Held()
    {
        var account = new Argument<string?>("account") { Description = "Only this account's held mail", Arity = ArgumentArity.ZeroOrOne };
        var unrecorded = new Option<bool>("--unrecorded") { Description = "List what Postfix's hold queue has that Floodgate never recorded (left alone unless --deliver or --purge)" };
        var deliver = new Option<bool>("--deliver") { Description = "With --unrecorded: deliver that mail (postsuper -H)" };
        var purge = new Option<bool>("--purge") { Description = "With --unrecorded: delete that mail (postsuper -d)" };
        var limit = new Option<int>("--limit") { Description = "At most this many messages per place", DefaultValueFactory = _ => 100 };
        return Verb("held", "List held mail, from Postfix's hold queue and the relay's quarantine, whatever held it.", async (parse, client, output) =>
        {
            if (parse.GetValue(deliver) || parse.GetValue(purge))
            {
                if (!parse.GetValue(unrecorded) || (parse.GetValue(deliver) && parse.GetValue(purge)))
                {
                    throw new CliException("--deliver or --purge here acts on --unrecorded mail only; release an account's mail with floodgate release ACCOUNT");
                }

                var mode = parse.GetValue(deliver) ? "deliver" : "purge";
                var done = await client.PostAsync("api/held/unrecorded/release", new { mode });
                if (!Print(parse, output, done))
                {
                    output.WriteLine($"{done["acted"]} never-recorded held messages {(mode == "deliver" ? "delivered" : "purged")}; {done["left"]} left");
                }

                if (done["problem"] is { } problem)
                {
                    throw new CliException($"held mail: {problem}");
                }

                return;
            }

            if (parse.GetValue(unrecorded))
            {
                var other = await client.GetAsync("api/held/unrecorded");
                if (!Print(parse, output, other))
                {
                    output.WriteLine($"{other["count"]} messages in Postfix's hold queue were never recorded by Floodgate (left alone):");
                    foreach (var id in other["queue_ids"]!.AsArray())
                    {
                        output.WriteLine($"  {id}");
                    }
                }

                return;
            }

            var who = parse.GetValue(account);
            var held = await client.GetAsync($"api/held?limit={parse.GetValue(limit)}" + (who is null ? "" : $"&account={Uri.EscapeDataString(who)}"));
            if (Print(parse, output, held))
            {
                return;
            }

            output.WriteLine($"{held["count"]} held messages{(who is null ? "" : $" for {held["account"]}")}");
            var table = new TextTable("HELD", "WHERE", "ID", "FOR", "SENDER", "WHY");
            foreach (var m in held["messages"]!.AsArray())
            {
                table.Add(Time(m!["held_at"]!), m["place"]!.ToString(), m["id"]!.ToString(), m["identity"]!.ToString(), m["sender"]?.ToString() ?? "-",
                    m["reason"]!.ToString());
            }

            table.Write(output);
        }, account, unrecorded, deliver, purge, limit);
    }

    private static Command Accounts()
    {
        var limit = new Option<int>("--limit") { Description = "At most this many accounts (suspended first, then the busiest)", DefaultValueFactory = _ => 50 };
        return Verb("accounts", "List accounts: state and each limit's counter.", async (parse, client, output) =>
        {
            var accounts = await client.GetAsync($"api/accounts?limit={parse.GetValue(limit)}");
            if (Print(parse, output, accounts))
            {
                return;
            }

            var table = new TextTable("ACCOUNT", "STATE", "COUNTERS", "INCIDENT");
            foreach (var a in accounts.AsArray())
            {
                var counters = string.Join("  ", a!["counters"]!.AsArray().Select(c => $"{c!["rule"]} {c["count"]}/{c["max"]} per {c["window"]}"));
                table.Add(a["account"]!.ToString(), a["state"]!.ToString(), counters, a["incident_id"]?.ToString() ?? "");
            }

            table.Write(output);
        }, limit);
    }

    private static Command Suspend()
    {
        var account = new Argument<string>("account") { Description = "The account (SASL login) to stop" };
        var reason = new Option<string?>("--reason") { Description = "Why, for the incident and the audit log" };
        return Verb("suspend", "Suspend an account by hand: its mail is held until it is released.", async (parse, client, output) =>
        {
            var incident = await client.PostAsync($"api/accounts/{Uri.EscapeDataString(parse.GetValue(account)!)}/suspend", new { reason = parse.GetValue(reason) });
            if (!Print(parse, output, incident))
            {
                output.WriteLine($"{parse.GetValue(account)} suspended; incident {incident["id"]}");
            }
        }, account, reason);
    }

    private static Command Release()
    {
        var account = new Argument<string>("account") { Description = "The suspended account, or an account with held mail" };
        var deliver = new Option<bool>("--deliver") { Description = "Deliver all its held mail (Postfix's hold queue and the relay's quarantine)" };
        var purge = new Option<bool>("--purge") { Description = "Delete all its held mail" };
        return Verb("release", "Release an account (suspended, or with mail held by a hold limit) and deliver or purge all its held mail.", async (parse, client, output) =>
        {
            if (parse.GetValue(deliver) == parse.GetValue(purge))
            {
                throw new CliException("say what happens to the held mail: --deliver or --purge");
            }

            var mode = parse.GetValue(deliver) ? "deliver" : "purge";
            var result = await client.PostAsync($"api/accounts/{Uri.EscapeDataString(parse.GetValue(account)!)}/release", new { mode });
            if (Print(parse, output, result))
            {
                return;
            }

            output.WriteLine($"{result["account"]} released; {result["held_messages"]} held messages {(mode == "deliver" ? "delivered" : "purged")}"
                + (result["incident"] is { } incident ? $"; incident {incident["id"]} closed" : ""));
            foreach (var place in result["places"]?.AsArray() ?? [])
            {
                if (place is null || ((long)place["acted"]! == 0 && (long)place["left"]! == 0 && (long)place["gone"]! == 0))
                {
                    continue;
                }

                output.WriteLine($"  {place["place"]}: {place["acted"]} {(mode == "deliver" ? "delivered" : "purged")}"
                    + ((long)place["gone"]! > 0 ? $", {place["gone"]} no longer there (released or deleted by hand)" : "")
                    + ((long)place["left"]! > 0 ? $", {place["left"]} LEFT held" : ""));
            }
            if (result["problem"] is { } problem)
            {
                throw new CliException($"held mail: {problem}");
            }
        }, account, deliver, purge);
    }

    private static Command Incidents()
    {
        var id = new Argument<long?>("id") { Description = "Show one incident in full", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Closed incidents too (newest first)" };
        return Verb("incidents", "List open incidents (or --all), or show one with its evidence.", async (parse, client, output) =>
        {
            if (parse.GetValue(id) is { } one)
            {
                var incident = await client.GetAsync($"api/incidents/{one}");
                output.WriteLine(incident.ToJsonString(Indented));
                return;
            }

            var incidents = await client.GetAsync(parse.GetValue(all) ? "api/incidents?limit=100" : "api/incidents?open=true");
            if (Print(parse, output, incidents))
            {
                return;
            }

            var table = new TextTable("ID", "IDENTITY", "RULE", "OPENED", "STATE", "REFUSED", "RELEASE");
            foreach (var i in incidents.AsArray())
            {
                table.Add(i!["id"]!.ToString(), $"{i["identity"]!["scope"]}:{i["identity"]!["key"]}", i["rule"]?.ToString() ?? "by hand",
                    Time(i["opened_at"]), i["state"]!.ToString() + (i["resolution"] is { } r ? $" ({r})" : ""),
                    i["evidence"]!["refused_messages"]!.ToString(),
                    i["observe_only"]?.GetValue<bool>() == true ? "- (observe only)" : i["auto_release_at"] is { } at ? $"auto {Time(at)}" : "by admin");
            }

            table.Write(output);
        }, id, all);
    }

    private static Command Exempt()
    {
        var account = new Argument<string>("account") { Description = "The account or domain" };
        var max = new Option<long?>("--max") { Description = "Raise its limits to this many (default: no limit at all)" };
        var until = new Option<string?>("--until") { Description = "When the exemption ends: 18:00, 2026-11-28T06:00, 2026-11-28T06:00Z" };
        var remove = new Option<bool>("--remove") { Description = "End the exemption now" };
        return Verb("exempt", "Exempt an account from its limits (or raise them) until a time.", async (parse, client, output) =>
        {
            var who = parse.GetValue(account)!;
            if (parse.GetValue(remove))
            {
                await client.DeleteAsync($"api/exemptions/{Uri.EscapeDataString(who)}");
                output.WriteLine($"{who}: exemption removed");
                return;
            }

            var text = parse.GetValue(until) ?? throw new CliException("--until is required (for example --until 18:00)");
            var end = ParseUntil(text);
            var result = await client.PostAsync("api/exemptions", new { account = who, max = parse.GetValue(max), until = end.ToString("O", CultureInfo.InvariantCulture) });
            if (!Print(parse, output, result))
            {
                output.WriteLine($"{result["account"]}: {(result["max"] is { } m ? $"limits raised to {m}" : "no limits")} until {Time(result["until"])}");
            }
        }, account, max, until, remove);
    }

    // "18:00" is today at 18:00 local time (tomorrow if that has passed); anything else as DateTimeOffset reads it.
    private static DateTimeOffset ParseUntil(string text)
    {
        if (TimeOnly.TryParse(text, CultureInfo.InvariantCulture, out var time))
        {
            var today = DateTime.Today.Add(time.ToTimeSpan());
            return new DateTimeOffset(today <= DateTime.Now ? today.AddDays(1) : today);
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var at))
        {
            return at;
        }

        throw new CliException($"'{text}' is not a time: write 18:00, 2026-11-28T06:00 or 2026-11-28T06:00Z");
    }

    internal static string Time(JsonNode? node) =>
        node is null ? "" : DateTimeOffset.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture).ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal static bool Print(ParseResult parse, TextWriter output, JsonNode json)
    {
        if (!parse.GetValue(Json))
        {
            return false;
        }

        output.WriteLine(json.ToJsonString(Indented));
        return true;
    }
}
