using System.CommandLine;

namespace Floodgate.Cli;

/// <summary>The visible verbs and options of the CLI, walked for the man page and the shell completion.</summary>
internal static class CommandTree
{
    /// <summary>Every visible command below <paramref name="root"/>, depth first, with its words from the root ("quarantine list").</summary>
    public static IEnumerable<(string Path, Command Command)> Walk(Command root, string path = "")
    {
        foreach (var command in root.Subcommands.Where(c => !c.Hidden))
        {
            var words = path.Length == 0 ? command.Name : $"{path} {command.Name}";
            yield return (words, command);
            foreach (var inner in Walk(command, words))
            {
                yield return inner;
            }
        }
    }

    /// <summary>The options a user may type after <paramref name="command"/>: its own, and the recursive ones of its parents.</summary>
    public static IEnumerable<Option> OptionsOf(Command command) =>
        command.Options.Concat(Ancestors(command).SelectMany(p => p.Options.Where(o => o.Recursive))).Where(o => !o.Hidden).Distinct();

    /// <summary>The option's Unix-style names, long first ("--config", "-c"; not the "/?" and "-?" spellings of help).</summary>
    public static IEnumerable<string> NamesOf(Option option) =>
        new[] { option.Name }.Concat(option.Aliases).Where(n => n.Length > 1 && n[0] == '-' && char.IsLetter(n[^1])).Distinct();

    private static IEnumerable<Command> Ancestors(Command command)
    {
        foreach (var parent in command.Parents.OfType<Command>())
        {
            yield return parent;
            foreach (var above in Ancestors(parent))
            {
                yield return above;
            }
        }
    }

    /// <summary>Whether the option is followed by a value (anything but a flag).</summary>
    public static bool TakesValue(Option option) => option.ValueType != typeof(bool) && option.Arity.MaximumNumberOfValues > 0;
}
