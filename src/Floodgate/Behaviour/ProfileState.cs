using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Floodgate.Behaviour;

/// <summary>
/// Everything one account's profile holds, as one unmanaged value of fixed size: learned in place under the profile's
/// lock and saved byte for byte (embedded store and Redis). <see cref="Size"/> is its cost per account.
/// </summary>
/// <remarks>
/// Layout, about 1.9 KB: the last hour in six 10-minute slots of what was sent (48 B each, 288 B); three decayed
/// log2 histograms of 16 buckets (active-hour volume, active-day volume, recipients per message: 192 B); 168 hour-of-week
/// counters (168 B); 8 client networks with first and last day seen (128 B); two generations of a 1,024-bit Bloom
/// filter of recipient domains (256 B) and of a 2,048-bit one of recipient addresses (512 B); a 1,024-bit filter of
/// what was sent in the last hour, for counting distinct new ones (256 B); 4 envelope senders (32 B); counters, probation state and timestamps.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct ProfileState
{
    /// <summary>Bumped when the layout changes: a saved profile of another version is learned again from scratch.</summary>
    public const int Version = 1;

    public const int SlotMinutes = 10;
    public const int Slots = 6;
    public const int Buckets = 16;
    public const int DomainWords = 16;
    public const int AddressWords = 32;
    public const int PendingWords = 16;
    public const int NetworkCount = 8;
    public const int SenderCount = 4;

    /// <summary>Bytes per account.</summary>
    public static int Size => Unsafe.SizeOf<ProfileState>();

    public int LayoutVersion;
    public ProfileStatus Status;

    /// <summary>The absolute 10-minute slot (unix minutes / 10) the newest window slot counts.</summary>
    public long LastSlot;
    public SlotRing Window;

    /// <summary>Learned messages: the calendar hour and day (UTC) being counted and their counts, fed to the histograms when they end.</summary>
    public long Hour;
    public int HourMessages;
    public int DayMessages;
    public long Day;

    /// <summary>Every message (learned or held) today and yesterday: the rolling day's volume.</summary>
    public int AllToday;
    public int AllYesterday;
    public long AllDay;

    public Histogram HourVolume;
    public Histogram DayVolume;
    public Histogram RecipientsPerMessage;
    public WeekHours Hours;
    public NetworkTable Networks;

    public Bits1024 DomainsCurrent;
    public Bits1024 DomainsPrevious;
    public Bits2048 AddressesCurrent;
    public Bits2048 AddressesPrevious;
    public Bits2048 Pending;
    public int DomainsInCurrent;
    public int AddressesInCurrent;
    public int PendingInserts;

    public SenderSet Senders;
    public int SenderNext;

    /// <summary>Messages learned, and the first and last day (days since 1970, UTC) one was.</summary>
    public long Messages;
    public int FirstDay;
    public int LastDay;

    /// <summary>The last client network seen that the profile does not know, for the plain-words explanation.</summary>
    public ulong LastNewNetwork;

    /// <summary>Unix seconds: when the current probation (or behaviour suspension) began; when the profile was last used.</summary>
    public long ProbationSince;
    public long LastSeen;
    public int Held;
    public float ProbationScore;
    public float LastScore;

    [InlineArray(Slots)]
    public struct SlotRing
    {
        private WindowSlot _slot;
    }

    [InlineArray(Buckets)]
    public struct Histogram
    {
        private float _bucket;
    }

    [InlineArray(168)]
    public struct WeekHours
    {
        private byte _hour;
    }

    [InlineArray(NetworkCount)]
    public struct NetworkTable
    {
        private NetworkSeen _network;
    }

    [InlineArray(DomainWords)]
    public struct Bits1024
    {
        private ulong _word;
    }

    [InlineArray(AddressWords)]
    public struct Bits2048
    {
        private ulong _word;
    }

    [InlineArray(SenderCount)]
    public struct SenderSet
    {
        private ulong _sender;
    }
}

/// <summary>What one 10-minute slot of the last hour saw.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct WindowSlot
{
    public int Messages;
    public int Recipients;
    public int NewDomainRecipients;
    public int NewDomains;
    public int NewAddressRecipients;
    public int NewAddresses;
    public int NewNetworkMessages;
    public int OddHourMessages;
    public int SenderMismatches;
    public int FailedRecipients;
    public int OutcomeRecipients;

    /// <summary>The most evidence points one message of the slot earned for its recipient count.</summary>
    public float RecipientPoints;
}

/// <summary>A client network (IPv4 /24, IPv6 /48) and the days it was first and last seen.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NetworkSeen
{
    public ulong Key;
    public int FirstDay;
    public int LastDay;
}

/// <summary>Where an account's behaviour stands.</summary>
internal enum ProfileStatus
{
    Normal = 0,
    Probation = 1,
    Suspended = 2,
}
