using Floodgate.Logs;
using YamlDotNet.RepresentationModel;

namespace Floodgate.Configuration;

public sealed partial class ConfigLoader
{
    // listen.log: [{ path: /opt/kerio/mailserver/store/logs/mail.log, format: kerio }]
    private List<LogWatchOptions> ReadLogWatches(YamlMappingNode listen)
    {
        var watches = new List<LogWatchOptions>();
        foreach (var watch in Entries(listen, "log", "listen.log", "{ path: /path/to/mail.log, format: kerio }"))
        {
            CheckKeys(watch, "listen.log.", ["path", "format"]);
            var path = Scalar(watch, "path", "listen.log.path", required: true);
            var format = Enum(watch, "format", "listen.log.format", ["kerio", "postfix"], v => v, "kerio", required: true);
            if (format == "postfix")
            {
                // The live watch gives out a message at the line that completes it; Postfix's lines for one message
                // arrive over minutes, so a restart could not resume without counting some twice or missing some.
                Error(watch, "listen.log.format", "the live log watch reads kerio logs; Postfix asks Floodgate inline (deploy/postfix/main.cf), "
                    + "and `floodgate replay` reads past Postfix logs");
                continue;
            }

            if (path is not null)
            {
                watches.Add(new LogWatchOptions(Path.GetFullPath(path.Value!), LogFormat.Kerio));
            }
        }

        return watches;
    }
}
