using System.Globalization;
using System.Runtime.InteropServices;

namespace Floodgate.Policy;

/// <summary>
/// Who may connect to a policy Unix socket: its mode (<c>policy.socket_mode</c>, default 0660) and group
/// (<c>policy.socket_group</c>, for example postfix). Whoever can connect can make Floodgate suspend any account.
/// </summary>
public static partial class PolicySocketAccess
{
    /// <summary>Sets the mode and, when <paramref name="groupId"/> is given, the group of the socket at <paramref name="path"/>.</summary>
    public static void Apply(string path, UnixFileMode mode, int? groupId)
    {
        if (groupId is { } gid && Chown(path, -1, gid) != 0)
        {
            throw new IOException($"cannot give {path} the group {gid}: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        File.SetUnixFileMode(path, mode);
    }

    /// <summary>The id of a group given by name (looked up in /etc/group) or by number; null when there is none.</summary>
    public static int? GroupId(string group, string groupFile = "/etc/group")
    {
        if (int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        if (!File.Exists(groupFile))
        {
            return null;
        }

        foreach (var line in File.ReadLines(groupFile))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == group && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                return gid;
            }
        }

        return null;
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, int owner, int group);
}
