namespace Floodgate.Logs;

/// <summary>Which mail server wrote a log.</summary>
public enum LogFormat
{
    Postfix,
    Kerio,
}
