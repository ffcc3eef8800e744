using System.CommandLine;
using Floodgate.Cli;

namespace Floodgate.Tests.Support;

/// <summary>Runs the floodgate executable's verbs in-process, as an admin would type them, capturing what they print.</summary>
internal static class FloodgateCli
{
    public static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await FloodgateCommands.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>A verb against a test server's admin API.</summary>
    public static Task<(int Exit, string Output, string Error)> AgainstAsync(TestServer server, params string[] args) =>
        RunAsync([.. args, "--url", server.AdminUrl, "--token", server.AdminToken]);
}
