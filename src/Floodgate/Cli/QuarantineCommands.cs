using System.CommandLine;
using System.Text.Json.Nodes;

namespace Floodgate.Cli;

/// <summary>`floodgate quarantine list|show|release|purge`: the relay's held mail, per message or per account.</summary>
public static class QuarantineCommands
{
    public static Command Build()
    {
        var command = new Command("quarantine", "The relay's held mail: list, show, release (deliver) or purge, one message or all of an account's.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Act("release", "Deliver held messages: by id, or all of an account's with --account.", "released"));
        command.Subcommands.Add(Act("purge", "Delete held messages for good: by id, or all of an account's with --account.", "purged"));
        return command;
    }

    private static Command List()
    {
        var account = new Option<string?>("--account") { Description = "Only this account's held messages" };
        return AdminCommands.Verb("list", "List held messages, oldest first.", async (parse, client, output) =>
        {
            var who = parse.GetValue(account);
            var held = await client.GetAsync("api/quarantine" + (who is null ? "" : $"?account={Uri.EscapeDataString(who)}"));
            if (AdminCommands.Print(parse, output, held))
            {
                return;
            }

            var table = new TextTable("ID", "ACCOUNT", "SENDER", "RECIPIENTS", "SUBJECT", "SIZE", "RECEIVED");
            foreach (var m in held["messages"]!.AsArray())
            {
                var recipients = m!["recipients"]!.AsArray();
                table.Add(m["id"]!.ToString(), Key(m["held_for"] ?? m["counted_as"]), Empty(m["sender"]),
                    recipients.Count == 1 ? recipients[0]!.ToString() : $"{recipients[0]} +{recipients.Count - 1}",
                    Cut(m["subject"]?.ToString() ?? "", 40), m["size"]!.ToString(), AdminCommands.Time(m["received_at"]));
            }

            table.Write(output);
            output.WriteLine($"{held["count"]} messages held ({held["bytes"]} bytes)");
        }, account);
    }

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "The held message's id (from `floodgate quarantine list`)" };
        return AdminCommands.Verb("show", "Show a held message: envelope, headers and the start of its body.", async (parse, client, output) =>
        {
            var shown = await client.GetAsync($"api/quarantine/{Uri.EscapeDataString(parse.GetValue(id)!)}");
            if (AdminCommands.Print(parse, output, shown))
            {
                return;
            }

            var m = shown["message"]!;
            output.WriteLine($"id:         {m["id"]}");
            output.WriteLine($"held for:   {m["held_for"]} ({m["reason"]})");
            output.WriteLine($"sender:     <{m["sender"]}> from {m["client_address"]}" + (m["login"] is { } login ? $" (login {login})" : ""));
            output.WriteLine($"recipients: {string.Join(", ", m["recipients"]!.AsArray().Select(r => r!.ToString()))}");
            output.WriteLine($"received:   {AdminCommands.Time(m["received_at"])}, {m["size"]} bytes");
            output.WriteLine();
            output.Write(shown["headers"]!.ToString());
            output.WriteLine();
            output.Write(shown["body_start"]!.ToString());
            if (shown["body_cut"]!.GetValue<bool>())
            {
                output.WriteLine();
                output.WriteLine("[... the rest of the body is not shown]");
            }
        }, id);
    }

    private static Command Act(string verb, string description, string done)
    {
        var id = new Argument<string?>("id") { Description = "The held message's id", Arity = ArgumentArity.ZeroOrOne };
        var account = new Option<string?>("--account") { Description = "All of this account's held messages" };
        return AdminCommands.Verb(verb, description, async (parse, client, output) =>
        {
            var one = parse.GetValue(id);
            var who = parse.GetValue(account);
            if ((one is null) == (who is null))
            {
                throw new CliException($"name one message id, or --account ACCOUNT for all of an account's held messages");
            }

            var result = one is not null
                ? await client.PostAsync($"api/quarantine/{Uri.EscapeDataString(one)}/{verb}", new { })
                : await client.PostAsync($"api/quarantine/{verb}", new { account = who });
            if (!AdminCommands.Print(parse, output, result))
            {
                output.WriteLine(one is not null ? $"{one} {done}" : $"{result["account"]}: {result["messages"]} held messages {done}");
            }
        }, id, account);
    }

    private static string Key(JsonNode? identity)
    {
        var text = identity?.ToString() ?? "";
        return text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..];
    }

    private static string Empty(JsonNode? sender) => sender?.ToString() is { Length: > 0 } s ? s : "<>";

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 3)] + "...";
}
