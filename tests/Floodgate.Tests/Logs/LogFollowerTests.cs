using Floodgate.Logs;

namespace Floodgate.Tests.Logs;

public class LogFollowerTests
{
    private readonly string _folder = Directory.CreateTempSubdirectory("floodgate-follow-").FullName;

    private string Log => Path.Combine(_folder, "mail.log");

    private string State => Path.Combine(_folder, "state");

    private void Append(params string[] lines) => File.AppendAllText(Log, string.Concat(lines.Select(l => l + "\n")));

    [Fact]
    public void Follower_StartsAtTheEnd_ThenGivesEachNewLineOnce_AHalfWrittenLineWhenItEnds()
    {
        Append("old 1", "old 2");
        using var follower = new LogFollower(Log, State);
        follower.Start();
        Assert.Empty(follower.Poll());
        File.AppendAllText(Log, "new 1\nnew 2\nhal");
        Assert.Equal(["new 1", "new 2"], follower.Poll());
        File.AppendAllText(Log, "f\n");
        Assert.Equal(["half"], follower.Poll());
        Assert.Empty(follower.Poll());
    }

    [Fact]
    public void Follower_ThroughRotationByRename_ReadsTheOldFileToItsEndThenTheNewOne()
    {
        Append("first");
        using var follower = new LogFollower(Log, State);
        follower.Start();
        Append("a", "b");
        Assert.Equal(["a", "b"], follower.Poll());

        // logrotate: written to the old file after our last look, then renamed, then a new file is started.
        Append("c");
        File.Move(Log, Log + ".1");
        File.WriteAllText(Log, "d\n");
        Assert.Equal(["c", "d"], follower.Poll());
        Append("e");
        Assert.Equal(["e"], follower.Poll());
    }

    [Fact]
    public void Follower_ThroughCopytruncate_ReadsTheTruncatedFileFromItsStart()
    {
        Append("first line of the day");
        using var follower = new LogFollower(Log, State);
        follower.Start();
        Append("a", "b");
        Assert.Equal(["a", "b"], follower.Poll());
        File.Copy(Log, Log + ".1");
        using (var truncate = new FileStream(Log, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            truncate.SetLength(0);
        }

        Append("c");
        Assert.Equal(["c"], follower.Poll());

        // Truncated again and grown back past where it was before the next look: its first line gives it away.
        using (var truncate = new FileStream(Log, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            truncate.SetLength(0);
        }

        Append("a much longer first line than before", "f");
        Assert.Equal(["a much longer first line than before", "f"], follower.Poll());
    }

    [Fact]
    public void Follower_AfterARestart_ResumesWhereItStopped_AlsoWhenTheFileWasRotatedMeanwhile()
    {
        Append("head of the file");
        using (var first = new LogFollower(Log, State))
        {
            first.Start();
            Append("a");
            Assert.Equal(["a"], first.Poll());
            first.SaveState();
        }

        // Down: more lines, then a rename rotation and a new file.
        Append("b", "c");
        using (var second = new LogFollower(Log, State))
        {
            second.Start();
            Assert.Equal(["b", "c"], second.Poll());
            second.SaveState();
        }

        Append("d");
        File.Move(Log, Log + ".1", overwrite: true);
        File.WriteAllText(Log, "e\n");
        using var third = new LogFollower(Log, State);
        third.Start();
        Assert.Equal(["d", "e"], third.Poll());
    }

    [Fact]
    public void Follower_CutsALineLongerThanItsBound_AndGoesOn()
    {
        Append("first");
        using var follower = new LogFollower(Log, State);
        follower.Start();
        File.AppendAllText(Log, new string('x', LogFollower.MaxLineBytes * 3) + "\nafter\n");
        Assert.Equal(["after"], follower.Poll());
        Assert.Equal(1, follower.CutLines);
    }
}
