using System.Globalization;
using System.Runtime.Versioning;
using Floodgate.Cli;

// A mail server's companion: Unix sockets, file modes, Postfix's tools.
[assembly: SupportedOSPlatform("linux")]

// ICU is loaded for Unicode normalisation only: numbers, dates and replies never follow the host's locale.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

return await FloodgateCommands.Build().Parse(args).InvokeAsync();
