using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using Floodgate.Engine;

namespace Floodgate.Behaviour;

/// <summary>
/// One account's profile, learned online from what it sends: its usual volume, hours, client networks, recipient
/// domains and addresses, recipients per message and envelope senders; and the last hour of what it sent, which the
/// score compares with them. Every method is called under the profile's lock; none allocates.
/// </summary>
public sealed class AccountProfile(string account)
{
    private const int DomainRotation = 100;
    private const int AddressRotation = 200;
    private const int PendingReset = 150;
    private const double HourDecay = 0.98, DayDecay = 0.95, RecipientDecay = 0.99;

    internal ProfileState State;
    private string? _lastClient;
    private ulong _lastNetwork;

    /// <summary>The account (login) this profile is of.</summary>
    public string Account { get; } = account;

    /// <summary>The lock every use of the profile takes.</summary>
    public Lock Gate { get; } = new();

    /// <summary>True when the profile changed since it was last saved.</summary>
    public bool Dirty { get; set; }

    /// <summary>The explanation written when the current probation began, shown for every message it holds.</summary>
    public string? ProbationReason { get; set; }

    /// <summary>The finding every later message of the current probation reports.</summary>
    public BehaviourFinding? HeldFinding { get; set; }

    /// <summary>Messages learned so far.</summary>
    public long Messages => State.Messages;

    /// <summary>True while the account is on probation.</summary>
    public bool OnProbation => State.Status == ProfileStatus.Probation;

    /// <summary>True when the profile knows enough to be scored: <paramref name="options"/>' minimum messages over its minimum days.</summary>
    public bool HasHistory(BehaviourOptions options) =>
        State.Messages >= options.MinMessages && State.LastDay - State.FirstDay + 1 >= options.MinDays;

    /// <summary>The profile as bytes for a store: a version and the state, byte for byte.</summary>
    public byte[] ToBytes()
    {
        State.LayoutVersion = ProfileState.Version;
        return MemoryMarshal.AsBytes(new ReadOnlySpan<ProfileState>(in State)).ToArray();
    }

    /// <summary>A profile from its saved bytes; null when they are of another layout (it is learned afresh).</summary>
    public static AccountProfile? FromBytes(string account, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != ProfileState.Size)
        {
            return null;
        }

        var profile = new AccountProfile(account);
        profile.State = MemoryMarshal.Read<ProfileState>(bytes);
        return profile.State.LayoutVersion == ProfileState.Version ? profile : null;
    }

    /// <summary>Moves the last hour's window on to <paramref name="now"/>, forgetting slots older than an hour.</summary>
    public void Advance(DateTimeOffset now)
    {
        var slot = now.ToUnixTimeSeconds() / 60 / ProfileState.SlotMinutes;
        if (slot <= State.LastSlot)
        {
            return;
        }

        var clear = Math.Min(ProfileState.Slots, slot - State.LastSlot);
        for (var i = 1; i <= clear; i++)
        {
            State.Window[(int)((State.LastSlot + i) % ProfileState.Slots)] = default;
        }

        State.LastSlot = slot;
        if (IsWindowEmpty() && State.Status == ProfileStatus.Normal)
        {
            // Nothing in the last hour: what was counted as new then has been learned or forgotten.
            State.Pending = default;
            State.PendingInserts = 0;
        }
    }

    private ref WindowSlot Current => ref State.Window[(int)(State.LastSlot % ProfileState.Slots)];

    /// <summary>The last hour's slots added up.</summary>
    public void WindowTotals(out int messages, out int recipients, out int newDomainRecipients, out int newDomains, out int newAddressRecipients,
        out int newAddresses, out int newNetworkMessages, out int oddHourMessages, out int senderMismatches, out int failed, out int outcomes,
        out float recipientPoints)
    {
        messages = recipients = newDomainRecipients = newDomains = newAddressRecipients = newAddresses = 0;
        newNetworkMessages = oddHourMessages = senderMismatches = failed = outcomes = 0;
        recipientPoints = 0;
        for (var i = 0; i < ProfileState.Slots; i++)
        {
            ref var s = ref State.Window[i];
            messages += s.Messages;
            recipients += s.Recipients;
            newDomainRecipients += s.NewDomainRecipients;
            newDomains += s.NewDomains;
            newAddressRecipients += s.NewAddressRecipients;
            newAddresses += s.NewAddresses;
            newNetworkMessages += s.NewNetworkMessages;
            oddHourMessages += s.OddHourMessages;
            senderMismatches += s.SenderMismatches;
            failed += s.FailedRecipients;
            outcomes += s.OutcomeRecipients;
            recipientPoints = Math.Max(recipientPoints, s.RecipientPoints);
        }
    }

    private bool IsWindowEmpty()
    {
        for (var i = 0; i < ProfileState.Slots; i++)
        {
            if (State.Window[i].Messages != 0 || State.Window[i].Recipients != 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Notes one recipient (UTF-8 or text) in the current slot: whether its domain and address were ever written to.
    /// With <paramref name="learn"/> it is learned at once; else it waits in the pending filter until probation ends.
    /// </summary>
    public void NoteRecipient(ReadOnlySpan<byte> address, bool learn) => NoteRecipient(HashOf(address, domainOnly: true), HashOf(address, domainOnly: false), learn);

    /// <inheritdoc cref="NoteRecipient(ReadOnlySpan{byte}, bool)"/>
    public void NoteRecipient(string address, bool learn) => NoteRecipient(HashOf(address, domainOnly: true), HashOf(address, domainOnly: false), learn);

    private void NoteRecipient(ulong domain, ulong address, bool learn)
    {
        ref var slot = ref Current;
        // The pending filter is salted apart from the known ones: one filter holds both domains and addresses.
        var pendingDomain = domain ^ 0x9E3779B97F4A7C15UL;
        var pendingAddress = address ^ 0xC2B2AE3D27D4EB4FUL;
        if (domain != 0 && !Contains(State.DomainsCurrent, State.DomainsPrevious, domain))
        {
            slot.NewDomainRecipients++;
            if (!Bloom.Contains(State.Pending, pendingDomain))
            {
                slot.NewDomains++;
                Bloom.Add(ref State.Pending, pendingDomain);
                State.PendingInserts++;
            }
        }

        if (!Contains(State.AddressesCurrent, State.AddressesPrevious, address))
        {
            slot.NewAddressRecipients++;
            if (!Bloom.Contains(State.Pending, pendingAddress))
            {
                slot.NewAddresses++;
                Bloom.Add(ref State.Pending, pendingAddress);
                State.PendingInserts++;
            }
        }

        if (learn)
        {
            LearnRecipient(domain, address);
            if (State.PendingInserts > PendingReset)
            {
                State.Pending = default;
                State.PendingInserts = 0;
            }
        }
    }

    private void LearnRecipient(ulong domain, ulong address)
    {
        if (domain != 0 && !Bloom.Contains(State.DomainsCurrent, domain))
        {
            Bloom.Add(ref State.DomainsCurrent, domain);
            if (++State.DomainsInCurrent >= DomainRotation)
            {
                // Two generations: a domain not written to for a generation and a half is forgotten, so the filter never fills.
                State.DomainsPrevious = State.DomainsCurrent;
                State.DomainsCurrent = default;
                State.DomainsInCurrent = 0;
            }
        }

        if (!Bloom.Contains(State.AddressesCurrent, address))
        {
            Bloom.Add(ref State.AddressesCurrent, address);
            if (++State.AddressesInCurrent >= AddressRotation)
            {
                State.AddressesPrevious = State.AddressesCurrent;
                State.AddressesCurrent = default;
                State.AddressesInCurrent = 0;
            }
        }
    }

    /// <summary>Learns what was sent while on probation (its probation ended by itself: that mail was the account's own).</summary>
    public void LearnPending()
    {
        // The pending filter's bits are of salted hashes, so they cannot be OR-ed into the known filters; what probation
        // held is learned message by message as it is released where recipients are known, and forgotten here.
        State.Pending = default;
        State.PendingInserts = 0;
    }

    /// <summary>
    /// Notes one message in the current slot (after its recipients, where the point knew them): its network, hour,
    /// recipient count against the usual, envelope sender against the login, failed recipients.
    /// </summary>
    public void NoteMessage(in Submission submission, bool scored)
    {
        ref var slot = ref Current;
        slot.Messages++;
        slot.Recipients += submission.RecipientCount;
        slot.FailedRecipients += submission.FailedRecipients;
        slot.OutcomeRecipients += submission.FailedRecipients > 0 || submission.DeliveredRecipients > 0
            ? submission.FailedRecipients + submission.DeliveredRecipients : 0;
        var day = (int)(submission.Time.ToUnixTimeSeconds() / 86400);
        if (day != State.AllDay)
        {
            State.AllYesterday = day == State.AllDay + 1 ? State.AllToday : 0;
            State.AllToday = 0;
            State.AllDay = day;
        }

        State.AllToday++;
        State.LastSeen = submission.Time.ToUnixTimeSeconds();
        if (!scored)
        {
            return;
        }

        var network = NetworkOf(submission.ClientAddress);
        if (network != 0 && !KnowsNetwork(network))
        {
            slot.NewNetworkMessages++;
            State.LastNewNetwork = network;
        }

        if (IsOddHour(submission.Time))
        {
            slot.OddHourMessages++;
        }

        var usual = Math.Max(2, Quantile(State.RecipientsPerMessage, 0.95));
        slot.RecipientPoints = Math.Max(slot.RecipientPoints, (float)BehaviourScore.RecipientPoints((double)submission.RecipientCount / usual));
        if (IsSenderMismatch(submission))
        {
            slot.SenderMismatches++;
        }
    }

    /// <summary>The score now, from the last hour's window against the profile.</summary>
    public BehaviourScore Score(DateTimeOffset now)
    {
        WindowTotals(out var messages, out var recipients, out var newDomainRecipients, out var newDomains, out var newAddressRecipients,
            out var newAddresses, out var newNetworkMessages, out var oddHour, out var mismatches, out var failed, out var outcomes, out var recipientPoints);
        var hourRatio = messages / (double)Math.Max(3, Quantile(State.HourVolume, 0.95));
        var dayRatio = RollingDay(now) / Math.Max(10, Quantile(State.DayVolume, 0.95));
        var rcpts = Math.Max(1, recipients);
        return new BehaviourScore
        {
            Volume = BehaviourScore.VolumePoints(Math.Max(hourRatio, dayRatio)),
            NewDomains = BehaviourScore.NewDomainPoints(Math.Min(1, newDomainRecipients / (double)rcpts), newDomains),
            NewAddresses = BehaviourScore.NewAddressPoints(Math.Min(1, newAddressRecipients / (double)rcpts), newAddresses),
            NewNetwork = BehaviourScore.NewNetworkPoints(newNetworkMessages),
            OddHour = oddHour > 0 ? BehaviourScore.MaxOddHour : 0,
            RecipientsPerMessage = recipientPoints,
            SenderMismatch = mismatches > 0 ? BehaviourScore.MaxSenderMismatch : 0,
            Failed = outcomes == 0 ? 0 : BehaviourScore.FailedPoints(failed / (double)outcomes, failed),
        };
    }

    /// <summary>Messages in the last 24 hours, estimated from today's and yesterday's counts (yesterday's weighted by the part of it still within 24 hours).</summary>
    public double RollingDay(DateTimeOffset now)
    {
        var seconds = now.ToUnixTimeSeconds();
        var day = seconds / 86400;
        if (day == State.AllDay)
        {
            return State.AllToday + (State.AllYesterday * (1 - ((seconds % 86400) / 86400.0)));
        }

        return day == State.AllDay + 1 ? State.AllToday * (1 - ((seconds % 86400) / 86400.0)) : 0;
    }

    /// <summary>Learns one accepted message into the profile: volume, hour of week, network, recipients per message, sender; and its recipients where known.</summary>
    public void Learn(in Submission submission)
    {
        var seconds = submission.Time.ToUnixTimeSeconds();
        var day = (int)(seconds / 86400);
        var hour = seconds / 3600;
        if (hour != State.Hour)
        {
            if (State.HourMessages > 0)
            {
                Observe(ref State.HourVolume, State.HourMessages, HourDecay);
            }

            State.Hour = hour;
            State.HourMessages = 0;
        }

        if (day != State.Day)
        {
            if (State.DayMessages > 0)
            {
                Observe(ref State.DayVolume, State.DayMessages, DayDecay);
            }

            State.Day = day;
            State.DayMessages = 0;
        }

        State.HourMessages++;
        State.DayMessages++;
        State.LastSeen = Math.Max(State.LastSeen, seconds);
        if (State.Messages == 0)
        {
            State.FirstDay = day;
        }

        State.Messages++;
        State.LastDay = Math.Max(State.LastDay, day);
        Observe(ref State.RecipientsPerMessage, Math.Max(1, submission.RecipientCount), RecipientDecay);
        var how = HourOfWeek(submission.Time);
        if (++State.Hours[how] == byte.MaxValue)
        {
            for (var i = 0; i < 168; i++)
            {
                State.Hours[i] >>= 1;
            }
        }

        LearnNetwork(NetworkOf(submission.ClientAddress), day);
        LearnSender(submission.Sender);
        if (submission.Recipients is { } recipients)
        {
            for (var i = 0; i < recipients.Count; i++)
            {
                LearnRecipient(HashOf(recipients[i], domainOnly: true), HashOf(recipients[i], domainOnly: false));
            }
        }
    }

    private void LearnNetwork(ulong network, int day)
    {
        if (network == 0)
        {
            return;
        }

        // Known: seen again today. Else it takes an empty entry, or the one not seen for longest.
        var oldest = 0;
        for (var i = 0; i < ProfileState.NetworkCount; i++)
        {
            ref var n = ref State.Networks[i];
            if (n.Key == network)
            {
                n.LastDay = Math.Max(n.LastDay, day);
                return;
            }

            ref var o = ref State.Networks[oldest];
            if (o.Key != 0 && (n.Key == 0 || n.LastDay < o.LastDay))
            {
                oldest = i;
            }
        }

        State.Networks[oldest] = new NetworkSeen { Key = network, FirstDay = day, LastDay = day };
    }

    /// <summary>True when the account sent from <paramref name="network"/> on two different days: one day is a visit, two are a habit.</summary>
    private bool KnowsNetwork(ulong network)
    {
        for (var i = 0; i < ProfileState.NetworkCount; i++)
        {
            ref var n = ref State.Networks[i];
            if (n.Key == network)
            {
                return n.LastDay > n.FirstDay;
            }
        }

        return false;
    }

    private void LearnSender(string? sender)
    {
        if (string.IsNullOrEmpty(sender))
        {
            return;
        }

        var hash = HashOf(sender, domainOnly: false);
        for (var i = 0; i < ProfileState.SenderCount; i++)
        {
            if (State.Senders[i] == hash)
            {
                return;
            }
        }

        State.Senders[State.SenderNext] = hash;
        State.SenderNext = (State.SenderNext + 1) % ProfileState.SenderCount;
    }

    private bool IsSenderMismatch(in Submission submission)
    {
        var sender = submission.Sender;
        var login = submission.Account;
        if (string.IsNullOrEmpty(sender) || string.IsNullOrEmpty(login) || submission.AccountFromSender || sender.Equals(login, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var at = sender.IndexOf('@', StringComparison.Ordinal);
        if (!login.Contains('@', StringComparison.Ordinal) && at > 0 && sender.AsSpan(0, at).Equals(login, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var hash = HashOf(sender, domainOnly: false);
        for (var i = 0; i < ProfileState.SenderCount; i++)
        {
            if (State.Senders[i] == hash)
            {
                return false;
            }
        }

        return true;
    }

    private bool IsOddHour(DateTimeOffset time)
    {
        var how = HourOfWeek(time);
        if (State.Hours[(how + 167) % 168] != 0 || State.Hours[how] != 0 || State.Hours[(how + 1) % 168] != 0)
        {
            return false;
        }

        // Never active within an hour of this one in the week, and rarely at this hour of the day on any day.
        var hourOfDay = how % 24;
        int total = 0, atHour = 0;
        for (var i = 0; i < 168; i++)
        {
            total += State.Hours[i];
            if (i % 24 == hourOfDay)
            {
                atHour += State.Hours[i];
            }
        }

        return total > 0 && atHour * 50 < total;
    }

    private static int HourOfWeek(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return ((int)utc.DayOfWeek * 24) + utc.Hour;
    }

    /// <summary>Adds one observation to a decayed histogram of log2 buckets (bucket 0: 1, bucket b: 2^b to 2^(b+1)-1).</summary>
    internal static void Observe(ref ProfileState.Histogram histogram, long value, double decay)
    {
        for (var i = 0; i < ProfileState.Buckets; i++)
        {
            histogram[i] = (float)(histogram[i] * decay);
        }

        histogram[BucketOf(value)] += 1;
    }

    internal static int BucketOf(long value) => value <= 1 ? 0 : Math.Min(ProfileState.Buckets - 1, 63 - BitOperations.LeadingZeroCount((ulong)value));

    /// <summary>The upper bound of the bucket holding quantile <paramref name="q"/>; 0 for an empty histogram.</summary>
    internal static long Quantile(in ProfileState.Histogram histogram, double q)
    {
        double total = 0;
        for (var i = 0; i < ProfileState.Buckets; i++)
        {
            total += histogram[i];
        }

        if (total <= 0)
        {
            return 0;
        }

        double sum = 0;
        for (var i = 0; i < ProfileState.Buckets; i++)
        {
            sum += histogram[i];
            if (sum >= q * total)
            {
                return (2L << i) - 1;
            }
        }

        return (2L << (ProfileState.Buckets - 1)) - 1;
    }

    private static bool Contains(in ProfileState.Bits1024 current, in ProfileState.Bits1024 previous, ulong hash) =>
        Bloom.Contains(current, hash) || Bloom.Contains(previous, hash);

    private static bool Contains(in ProfileState.Bits2048 current, in ProfileState.Bits2048 previous, ulong hash) =>
        Bloom.Contains(current, hash) || Bloom.Contains(previous, hash);

    /// <summary>
    /// A client address's network as one number: IPv4 /24 (an IPv4-mapped IPv6 address too), IPv6 /48; 0 when it is
    /// not an address. The last address parsed is remembered: a login sends from the same place again and again.
    /// </summary>
    public ulong NetworkOf(string? address)
    {
        if (address is null)
        {
            return 0;
        }

        if (ReferenceEquals(address, _lastClient) || address == _lastClient)
        {
            return _lastNetwork;
        }

        _lastClient = address;
        return _lastNetwork = ParseNetwork(address);
    }

    /// <summary>The network of <paramref name="address"/> (see <see cref="NetworkOf"/>), parsed afresh.</summary>
    public static ulong ParseNetwork(ReadOnlySpan<char> address)
    {
        if (address.StartsWith("::ffff:", StringComparison.OrdinalIgnoreCase) && address[7..].Contains('.'))
        {
            address = address[7..];
        }

        if (TryIPv4(address, out var v4))
        {
            return 0x4000_0000_0000_0000UL | (v4 >> 8);
        }

        if (!address.Contains(':') || !System.Net.IPAddress.TryParse(address, out var ip))
        {
            return 0;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!ip.TryWriteBytes(bytes, out var written) || written != 16)
        {
            return 0;
        }

        ulong prefix = 0;
        for (var i = 0; i < 6; i++)
        {
            prefix = (prefix << 8) | bytes[i];
        }

        return 0x6000_0000_0000_0000UL | prefix;
    }

    private static bool TryIPv4(ReadOnlySpan<char> text, out uint address)
    {
        address = 0;
        var parts = 0;
        var value = -1;
        foreach (var c in text)
        {
            if (c == '.')
            {
                if (value < 0 || ++parts > 3)
                {
                    return false;
                }

                address = (address << 8) | (uint)value;
                value = -1;
            }
            else if (char.IsAsciiDigit(c))
            {
                value = (value < 0 ? 0 : value * 10) + (c - '0');
                if (value > 255)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        if (parts != 3 || value < 0)
        {
            return false;
        }

        address = (address << 8) | (uint)value;
        return true;
    }

    /// <summary>A network number as an admin writes it: 203.0.113.0/24, 2001:db8:1::/48.</summary>
    public static string NetworkText(ulong network)
    {
        if (network >> 60 == 4)
        {
            return $"{(network >> 16) & 0xFF}.{(network >> 8) & 0xFF}.{network & 0xFF}.0/24";
        }

        if (network >> 60 == 6)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{(network >> 32) & 0xFFFF:x}:{(network >> 16) & 0xFFFF:x}:{network & 0xFFFF:x}::/48");
        }

        return "-";
    }

    /// <summary>The network the account sent from on the most recent day, for "usually ... from".</summary>
    public ulong UsualNetwork()
    {
        var best = -1;
        for (var i = 0; i < ProfileState.NetworkCount; i++)
        {
            ref var n = ref State.Networks[i];
            if (n.Key != 0 && (best < 0 || (n.LastDay - n.FirstDay) > (State.Networks[best].LastDay - State.Networks[best].FirstDay)))
            {
                best = i;
            }
        }

        return best < 0 ? 0 : State.Networks[best].Key;
    }

    /// <summary>
    /// The score in plain words: the usual, then each signal that gave points, for example "usually up to 15 messages an
    /// hour and 31 a day from 198.51.100.0/24; 240 in the last hour (+6.0), 180 of them from 203.0.113.0/24, never
    /// seen before (+6.0), 96% of 400 recipients at 180 domains never written to (+6.0)".
    /// </summary>
    public string Explain(in BehaviourScore score, DateTimeOffset now)
    {
        WindowTotals(out var messages, out var recipients, out var newDomainRecipients, out var newDomains, out var newAddressRecipients,
            out var newAddresses, out var newNetworkMessages, out _, out _, out var failed, out var outcomes, out _);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"score {score.Total:0.0}: usually up to {Quantile(State.HourVolume, 0.95)} messages an hour and {Quantile(State.DayVolume, 0.95)} a day");
        if (UsualNetwork() is var usual and not 0)
        {
            text.Append(" from ").Append(NetworkText(usual));
        }

        text.Append(CultureInfo.InvariantCulture, $"; {messages} in the last hour ({RollingDay(now):0} in 24 hours)");
        Points(text, score.Volume);
        if (score.NewNetwork > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {newNetworkMessages} from networks never used before such as {NetworkText(State.LastNewNetwork)}");
            Points(text, score.NewNetwork);
        }

        if (score.NewDomains > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {Percent(newDomainRecipients, recipients)} of {recipients} recipients to {newDomains} domains never written to");
            Points(text, score.NewDomains);
        }

        if (score.NewAddresses > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {Percent(newAddressRecipients, recipients)} to {newAddresses} addresses never written to");
            Points(text, score.NewAddresses);
        }

        if (score.OddHour > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", at an hour it never sends at ({now.UtcDateTime:ddd HH}:00 UTC)");
            Points(text, score.OddHour);
        }

        if (score.RecipientsPerMessage > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", a message to many more recipients than its usual {Math.Max(1, Quantile(State.RecipientsPerMessage, 0.95))}");
            Points(text, score.RecipientsPerMessage);
        }

        if (score.SenderMismatch > 0)
        {
            text.Append(", an envelope sender that is not its login and never used before");
            Points(text, score.SenderMismatch);
        }

        if (score.Failed > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {Percent(failed, outcomes)} of recipients failed ({failed})");
            Points(text, score.Failed);
        }

        return text.ToString();
    }

    private static void Points(StringBuilder text, double points)
    {
        if (points > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" (+{points:0.0})");
        }
    }

    private static string Percent(int part, int whole) => whole <= 0 ? "0%" : string.Create(CultureInfo.InvariantCulture, $"{Math.Min(100, 100.0 * part / whole):0}%");

    /// <summary>A stable 64-bit hash of an address (or its domain) as UTF-8, ASCII letters folded to lower case: the same from a policy request's bytes and a log's text.</summary>
    internal static ulong HashOf(ReadOnlySpan<byte> address, bool domainOnly)
    {
        if (domainOnly)
        {
            var at = address.LastIndexOf((byte)'@');
            if (at < 0 || at == address.Length - 1)
            {
                return 0;
            }

            address = address[(at + 1)..];
        }

        var hash = 14695981039346656037UL;
        foreach (var b in address)
        {
            hash = (hash ^ (b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b)) * 1099511628211UL;
        }

        return Mix(hash);
    }

    /// <inheritdoc cref="HashOf(ReadOnlySpan{byte}, bool)"/>
    internal static ulong HashOf(string address, bool domainOnly)
    {
        var text = address.AsSpan();
        if (domainOnly)
        {
            var at = text.LastIndexOf('@');
            if (at < 0 || at == text.Length - 1)
            {
                return 0;
            }

            text = text[(at + 1)..];
        }

        var hash = 14695981039346656037UL;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            var n = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < n; i++)
            {
                var b = utf8[i];
                hash = (hash ^ (b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b)) * 1099511628211UL;
            }
        }

        return Mix(hash);
    }

    // SplitMix64's finaliser: FNV's low bits are weak, and the filters index by them.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
