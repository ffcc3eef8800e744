using System.Runtime.Versioning;
using Floodgate.Cli;

// A mail server's companion: Unix sockets, file modes, Postfix's tools.
[assembly: SupportedOSPlatform("linux")]

return await FloodgateCommands.Build().Parse(args).InvokeAsync();
