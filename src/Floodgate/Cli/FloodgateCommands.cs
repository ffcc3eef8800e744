using System.CommandLine;
using Floodgate.Configuration;
using Floodgate.Hosting;

namespace Floodgate.Cli;

/// <summary>The verbs of the floodgate executable.</summary>
public static class FloodgateCommands
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Floodgate: per-account outbound limits for mail servers; holds a hijacked account's mail and alerts you.");
        root.Subcommands.Add(Serve());
        root.Subcommands.Add(CheckConfig());
        root.Subcommands.Add(DefaultConfig());
        root.Subcommands.Add(HashPassword());
        root.Subcommands.Add(SetPassword());
        root.Subcommands.Add(ReplayCommand.Build());
        root.Subcommands.Add(LearnCommand.Build());
        root.Subcommands.Add(Init());
        root.Subcommands.Add(Demo());
        foreach (var verb in AdminCommands.All())
        {
            root.Subcommands.Add(verb);
        }

        // Hidden: the package's build writes floodgate(8) and the bash completion from the command tree with these.
        root.Subcommands.Add(Man(root));
        root.Subcommands.Add(Completion(root));
        return root;
    }

    /// <summary>The version <c>floodgate --version</c> prints, without the commit it was built from.</summary>
    public static string Version =>
        (typeof(FloodgateCommands).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "0").Split('+')[0];

    private static Command Init()
    {
        var config = new Option<string?>("--config", "-c")
        {
            Description = "Configuration file, to find the data directory (default: $FLOODGATE_CONFIG, else the embedded default)",
        };
        var command = new Command("init", "Create the data directory with the admin API token and the dashboard password (mode 0600), as the first start would, and say where they are.") { config };
        command.SetAction(async parse =>
        {
            FloodgateOptions options;
            try
            {
                options = ConfigLoader.Load(parse.GetValue(config) ?? Environment.GetEnvironmentVariable("FLOODGATE_CONFIG"));
            }
            catch (ConfigException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"floodgate init: the configuration cannot be used:{Environment.NewLine}{e.Message}");
                return 2;
            }

            var token = Admin.AdminToken.LoadOrCreate(options.DataDirectory);
            var password = Admin.AdminPassword.LoadOrCreate(options.DataDirectory);
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync($"admin API token in {token.Path}");
            await output.WriteLineAsync(password.IsGenerated
                ? $"dashboard password in {password.Path}"
                : "dashboard password: the one set with floodgate set-password");
            return 0;
        });
        return command;
    }

    private static Command Demo()
    {
        var quick = new Option<bool>("--quick") { Description = "No pauses for reading and no wait at the end (for scripts)" };
        var command = new Command("demo",
            "Watch Floodgate stop a hijacked account, in about a minute: a private Floodgate with its own next hop, two normal users and one account blasting mail; everything is removed at the end.")
        {
            quick,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var terminal = output == Console.Out && !Console.IsOutputRedirected;
            var fast = parse.GetValue(quick);
            try
            {
                await Floodgate.Demo.DemoStory.RunAsync(output, fast, terminal, terminal && !fast && !Console.IsInputRedirected, cancel);
                return 0;
            }
            catch (Exception) when (cancel.IsCancellationRequested)
            {
                // Ctrl+C: the story stops wherever it was (a sender may see its connection close first); it cleaned up.
                return 130;
            }
        });
        return command;
    }

    private static Command Man(RootCommand root)
    {
        var command = new Command("man", "Print the floodgate(8) manual page in roff, written from this command tree.") { Hidden = true };
        command.SetAction(parse =>
        {
            parse.InvocationConfiguration.Output.Write(ManPage.Render(root, Version));
            return 0;
        });
        return command;
    }

    private static Command Completion(RootCommand root)
    {
        var shell = new Argument<string>("shell") { Description = "The shell: bash" };
        var command = new Command("completion", "Print the shell completion script for floodgate.") { shell };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            if (parse.GetValue(shell) != "bash")
            {
                parse.InvocationConfiguration.Error.WriteLine("floodgate completion: only bash is supported");
                return 2;
            }

            parse.InvocationConfiguration.Output.Write(BashCompletion.Render(root));
            return 0;
        });
        return command;
    }

    private static Command Serve()
    {
        var config = new Option<string?>("--config", "-c")
        {
            Description = "Configuration file (default: $FLOODGATE_CONFIG, else the embedded default)",
        };
        var command = new Command("serve", "Run the policy service, the SMTP relay and the admin API until stopped.") { config };
        command.SetAction(async (parse, cancel) =>
        {
            var path = parse.GetValue(config) ?? Environment.GetEnvironmentVariable("FLOODGATE_CONFIG");
            FloodgateOptions options;
            try
            {
                options = ConfigLoader.Load(path);
            }
            catch (ConfigException e)
            {
                await Console.Error.WriteLineAsync($"floodgate: the configuration cannot be used:{Environment.NewLine}{e.Message}");
                return 2;
            }

            try
            {
                await using var app = FloodgateHost.Build(options);
                await app.RunAsync(cancel);
                return 0;
            }
            catch (ConfigException e)
            {
                await Console.Error.WriteLineAsync($"floodgate: {e.Message}");
                return 2;
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"floodgate: cannot listen: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command SetPassword()
    {
        var config = new Option<string?>("--config", "-c")
        {
            Description = "Configuration file, to find the data directory (default: $FLOODGATE_CONFIG, else the embedded default)",
        };
        var file = new Option<string?>("--password-file")
        {
            Description = "Read the new password from this file's first line (default: asked on the terminal, or read from standard input)",
        };
        var command = new Command("set-password", "Set the dashboard's admin password (kept as a PBKDF2 hash in the data directory; a running Floodgate uses it at once).") { config, file };
        command.SetAction(async (parse, cancel) =>
        {
            var error = parse.InvocationConfiguration.Error;
            FloodgateOptions options;
            try
            {
                options = ConfigLoader.Load(parse.GetValue(config) ?? Environment.GetEnvironmentVariable("FLOODGATE_CONFIG"));
            }
            catch (ConfigException e)
            {
                await error.WriteLineAsync($"floodgate set-password: the configuration cannot be used:{Environment.NewLine}{e.Message}");
                return 2;
            }

            string? password;
            if (parse.GetValue(file) is { } path)
            {
                password = File.Exists(path) ? File.ReadLines(path).FirstOrDefault() : null;
            }
            else if (Console.IsInputRedirected)
            {
                password = await Console.In.ReadLineAsync(cancel);
            }
            else
            {
                password = Admin.PasswordPrompt.Read("New dashboard password: ");
                if (password != Admin.PasswordPrompt.Read("Again: "))
                {
                    await error.WriteLineAsync("floodgate set-password: the two passwords differ; nothing changed");
                    return 1;
                }
            }

            if (password is null || password.Trim().Length < 12)
            {
                await error.WriteLineAsync("floodgate set-password: a password of at least 12 characters is required; nothing changed");
                return 1;
            }

            Admin.AdminPassword.LoadOrCreate(options.DataDirectory).Set(password.Trim());
            await parse.InvocationConfiguration.Output.WriteLineAsync($"dashboard password set (hash in {Path.Combine(options.DataDirectory, Admin.AdminPassword.HashFileName)})");
            return 0;
        });
        return command;
    }

    private static Command CheckConfig()
    {
        var file = new Argument<string?>("file")
        {
            Description = "Configuration file to validate (default: the embedded default)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("check-config", "Validate a configuration file without starting; exits non-zero on any error.") { file };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file);
            var output = parse.InvocationConfiguration.Output;
            try
            {
                var options = ConfigLoader.Load(path);
                output.WriteLine($"{options.Source}: OK");
                output.WriteLine($"  policy listeners: {string.Join(", ", options.PolicyEndpoints)}");
                foreach (var rule in options.Rules.Rules)
                {
                    output.WriteLine($"  limit {rule}{(rule.Overrides.Count > 0 ? $", {rule.Overrides.Count} overrides" : "")}");
                    if (rule.Unit == Engine.LimitUnit.Bytes)
                    {
                        output.WriteLine($"    {rule.Name} counts bytes: Postfix sends a message's size at END-OF-MESSAGE (smtpd_end_of_data_restrictions, "
                            + "deploy/postfix/main.cf.end-of-data); asked at DATA, it knows only the size the client declared (MAIL FROM SIZE=), "
                            + "often none. The relay and the log readers know every message's size.");
                    }

                    if (rule.Unit == Engine.LimitUnit.ExternalRecipients)
                    {
                        output.WriteLine($"    {rule.Name} counts recipients outside local_domains ({(options.Rules.LocalDomains.IsEmpty ? "none listed: every recipient is external" : string.Join(", ", options.Rules.LocalDomains.Entries))})"
                            + (options.PolicyEndpoints.Count > 0 && !options.Policy.RcptCheck
                                ? "; Postfix names recipients only at RCPT TO: until deploy/postfix/main.cf.rcpt is in main.cf (then set policy.rcpt_check: true), "
                                  + "every recipient of a message asked about at DATA counts as external. The relay and the log readers know every address."
                                : "."));
                    }

                    if (rule.Unit == Engine.LimitUnit.UniqueRecipients)
                    {
                        output.WriteLine($"    {rule.Name} remembers at most {rule.TrackedMax} addresses per identity ({rule.TrackedMax * Storage.RecipientSet.BytesPerAddress / 1024} KiB at most in memory); "
                            + "Postfix names them at RCPT TO (policy.rcpt_check), the relay and the log readers always.");
                    }

                    if (rule.Unit == Engine.LimitUnit.FailedRecipients)
                    {
                        output.WriteLine($"    {rule.Name} counts recipients refused for good (5xx) by the relay's next hop and logged as bounced "
                            + "(the log watch, replay), when that is known: it acts on the identity's next message. Postfix's policy service never learns of bounces.");
                    }
                }

                output.WriteLine($"  local domains: {(options.Rules.LocalDomains.IsEmpty ? "none" : string.Join(", ", options.Rules.LocalDomains.Entries))}");

                output.WriteLine($"  exempt: {(options.Rules.Exempt.Count == 0 ? "none" : string.Join(", ", options.Rules.Exempt))}");
                output.WriteLine($"  mode: {FloodgateHost.ModeText(options.Rules)}");
                output.WriteLine($"  suspended mail: {options.Rules.SuspendedVerdict}; fail mode: {options.FailMode}");
                return 0;
            }
            catch (ConfigException e)
            {
                parse.InvocationConfiguration.Error.WriteLine(e.Message);
                return 1;
            }
        });
        return command;
    }

    private static Command HashPassword()
    {
        var command = new Command("hash-password",
            "Read a relay login's password from standard input and print its hash for relay.users[].password_hash.");
        command.SetAction(_ =>
        {
            // From standard input, so the password is in neither the shell history nor the process list.
            var password = Console.IsInputRedirected ? Console.In.ReadLine() : ReadHidden();
            if (string.IsNullOrEmpty(password))
            {
                Console.Error.WriteLine("floodgate: no password given on standard input");
                return 2;
            }

            Console.WriteLine(Relay.RelayPassword.Hash(password));
            return 0;
        });
        return command;
    }

    private static string ReadHidden()
    {
        Console.Error.Write("password: ");
        var text = new System.Text.StringBuilder();
        while (Console.ReadKey(intercept: true) is { Key: not ConsoleKey.Enter } key)
        {
            if (key.Key == ConsoleKey.Backspace && text.Length > 0)
            {
                text.Length--;
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return text.ToString();
    }

    private static Command DefaultConfig()
    {
        var command = new Command("default-config", "Print the embedded default configuration, to start your own from.");
        command.SetAction(_ =>
        {
            Console.Write(ConfigLoader.EmbeddedDefault());
            return 0;
        });
        return command;
    }
}
