using System.Globalization;
using System.Runtime.Versioning;
using Floodgate.Eval;

// Floodgate runs on Linux, and so does the replay this tool drives.
[assembly: SupportedOSPlatform("linux")]

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

return await EvalCommands.Build().Parse(args).InvokeAsync();
