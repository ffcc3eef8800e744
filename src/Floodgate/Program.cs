using Floodgate.Cli;

return await FloodgateCommands.Build().Parse(args).InvokeAsync();
