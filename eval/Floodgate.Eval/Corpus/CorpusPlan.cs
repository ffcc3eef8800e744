namespace Floodgate.Eval.Corpus;

/// <summary>
/// What every account's traffic is drawn against: the accounts with their archetypes and hijack times, the staff
/// directory, the company's partners and the wider internet's domains. Made once per corpus from the seed.
/// </summary>
internal sealed class CorpusPlan
{
    private static readonly string[] FirstNames =
    [
        "anna", "ben", "clara", "david", "emma", "felix", "grace", "henry", "ida", "jonas", "kate", "leon", "maria", "noah",
        "olga", "paul", "quinn", "rosa", "sam", "tina", "ugo", "vera", "will", "xenia", "yann", "zoe", "adam", "bella",
        "carl", "dora", "eric", "fiona", "gavin", "hanna", "ivan", "julia", "karl", "lena", "max", "nina",
    ];

    private static readonly string[] LastNames =
    [
        "weber", "smith", "novak", "garcia", "rossi", "muller", "dubois", "jensen", "kowalski", "silva", "meyer", "brown",
        "fischer", "moreau", "bauer", "wagner", "costa", "jones", "lind", "horvat", "keller", "martin", "nagy", "olsen",
        "petit", "quist", "roux", "schulz", "taylor", "urban", "vogel", "walsh", "young", "zimmer", "adler", "berg",
        "clark", "dahl", "evans", "frank",
    ];

    private static readonly string[] Words =
    [
        "northwind", "contoso", "fabrikam", "tailspin", "wingtip", "litware", "proseware", "lucerne", "coho", "alpine",
        "fourthcoffee", "wideworld", "blueyonder", "trey", "humongous", "woodgrove", "southridge", "margies", "adatum",
        "relecloud",
    ];

    private static readonly string[] RoleNewsletter = ["newsletter", "news", "offers", "events", "community", "updates"];

    private static readonly string[] RoleNotifications = ["noreply", "alerts", "billing", "tickets"];

    public CorpusPlan(CorpusOptions options)
    {
        Options = options;
        Start = new DateTimeOffset(options.Start.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        End = Start.AddDays(options.Days);
        var random = new Random(options.Seed);
        PartnerDomains = [.. Enumerable.Range(0, 400).Select(Domain)];
        Freemail = ["mail.example.net", "post.example.org", "inbox.example.net", "webmail.example.org", "gmx.example.net",
            "online.example.org", "mailbox.example.net", "yahoo.example.org", "outlook.example.net", "proton.example.org"];

        // Every archetype gets its accounts (hijacks: one per hundred accounts each, at least one), the rest are office
        // workers; which index gets which is shuffled, so the names say nothing.
        var perHijack = Math.Max(1, options.Accounts / 100);
        var patterns = new List<(Archetype Pattern, Archetype? Hijack, int Instance)>
        {
            (Archetype.Manager, null, 0),
        };
        patterns.AddRange(Enumerable.Range(0, 2).Select(i => (Archetype.SalesMailMerge, (Archetype?)null, i)));
        patterns.Add((Archetype.Newsletter, null, 0));
        patterns.AddRange(Enumerable.Range(0, 2).Select(i => (Archetype.NotificationSender, (Archetype?)null, i)));
        patterns.AddRange(Enumerable.Range(0, 2).Select(i => (Archetype.Traveller, (Archetype?)null, i)));
        patterns.AddRange(Enumerable.Range(0, 2).Select(i => (Archetype.NewEmployee, (Archetype?)null, i)));
        patterns.AddRange(Enumerable.Range(0, 2).Select(i => (Archetype.BackFromLeave, (Archetype?)null, i)));
        foreach (var hijack in Archetypes.Hijacks)
        {
            var pattern = hijack == Archetype.HijackedNewsletter ? Archetype.Newsletter : Archetype.OfficeWorker;
            patterns.AddRange(Enumerable.Range(0, perHijack).Select(i => (pattern, (Archetype?)hijack, i + (pattern == Archetype.Newsletter ? 1 : 0))));
        }

        patterns.AddRange(Enumerable.Range(0, options.Accounts - patterns.Count).Select(i => (Archetype.OfficeWorker, (Archetype?)null, i)));
        var order = Enumerable.Range(0, options.Accounts).ToArray();
        random.Shuffle(order);
        Instances = new int[options.Accounts];
        var accounts = new CorpusAccount[options.Accounts];
        var person = 0;
        var newsletters = 0;
        var notifications = 0;
        for (var i = 0; i < patterns.Count; i++)
        {
            var (pattern, hijack, instance) = patterns[i];
            var index = order[i];
            Instances[index] = instance;
            var login = pattern switch
            {
                Archetype.Newsletter => Role(RoleNewsletter, newsletters++),
                Archetype.NotificationSender => Role(RoleNotifications, notifications++),
                _ => Person(person++),
            };
            var firstDay = pattern == Archetype.NewEmployee ? NewEmployeeDay(instance) : 0;
            accounts[index] = new CorpusAccount(login, pattern, hijack, hijack is { } h ? HijackStart(h, instance, random) : null, firstDay);
        }

        Accounts = accounts;
        Staff = [.. accounts.Where(a => a.Pattern is not (Archetype.Newsletter or Archetype.NotificationSender)).Select(a => a.Login)];
    }

    public CorpusOptions Options { get; }

    public DateTimeOffset Start { get; }

    /// <summary>The end of the last day: no message is made at or after it.</summary>
    public DateTimeOffset End { get; }

    public IReadOnlyList<CorpusAccount> Accounts { get; }

    /// <summary>Which of its archetype's accounts each one is (the first sales mail-merge, the second...).</summary>
    public int[] Instances { get; }

    /// <summary>Every person's login (not the newsletter and notification accounts): colleagues and the announcement's list.</summary>
    public string[] Staff { get; }

    /// <summary>The domains of the company's partners and customers: office workers' contacts are there.</summary>
    public string[] PartnerDomains { get; }

    public string[] Freemail { get; }

    /// <summary>The first day hijacks may start on (week 3 in a three-week corpus), and the last.</summary>
    public int HijackFirstDay => Options.Days >= 21 ? 14 : Options.Days * 2 / 3;

    public int HijackLastDay => Math.Max(HijackFirstDay, Options.Days - 2);

    /// <summary>The day an office worker travels from, for a working week (week 2).</summary>
    public int TripFirstDay => Options.Days >= 14 ? 7 : 1;

    public static bool IsWeekday(int day) => day % 7 < 5;

    public static string FirstName(int n) => FirstNames[n % FirstNames.Length];

    public static string LastName(int n) => LastNames[n % LastNames.Length];

    public static string Domain(int n) => Words[n % Words.Length] + (n < Words.Length ? "" : (n / Words.Length).ToString(System.Globalization.CultureInfo.InvariantCulture)) + ".example";

    public DateTimeOffset At(int day, double hours) => Start.AddDays(day).AddHours(hours);

    private string Person(int n) => $"{FirstName(n)}.{LastName(n / FirstNames.Length)}"
        + (n < FirstNames.Length * LastNames.Length ? "" : (n / (FirstNames.Length * LastNames.Length)).ToString(System.Globalization.CultureInfo.InvariantCulture))
        + "@" + Options.Domain;

    private string Role(string[] names, int n) => names[n % names.Length] + (n < names.Length ? "" : (n / names.Length).ToString(System.Globalization.CultureInfo.InvariantCulture)) + "@" + Options.Domain;

    private int NewEmployeeDay(int instance) => Options.Days >= 21 ? (instance % 2 == 0 ? 14 : 10) : Options.Days * (instance % 2 == 0 ? 2 : 1) / 3;

    // Each hijack archetype's accounts start on different days of the window, at the hour that archetype works.
    private DateTimeOffset HijackStart(Archetype hijack, int instance, Random random)
    {
        var span = HijackLastDay - HijackFirstDay + 1;
        var day = HijackFirstDay + ((int)hijack - (int)Archetype.OvernightBlast + (3 * instance)) % span;
        double hour;
        switch (hijack)
        {
            case Archetype.OvernightBlast:
                hour = 1 + random.NextDouble();
                break;
            case Archetype.HijackedNewsletter:
                // Not on newsletter day (Tuesday), so that the spam is not hidden inside an issue.
                day = day % 7 == 1 ? (day + 1 < Options.Days ? day + 1 : day - 1) : day;
                hour = 0.5 + random.NextDouble();
                break;
            case Archetype.MalwareOwnPc or Archetype.LateralPhishing:
                // The office PC is on, and the contacts are at work, on weekdays.
                var forward = day;
                while (!IsWeekday(forward) && forward + 1 < Options.Days)
                {
                    forward++;
                }

                while (!IsWeekday(day))
                {
                    day--;
                }

                day = IsWeekday(forward) ? forward : day;

                hour = 9.5 + (random.NextDouble() * 4);
                break;
            case Archetype.LowAndSlowBcc:
                hour = 18 + (random.NextDouble() * 2);
                break;
            default:
                hour = 8 + (random.NextDouble() * 12);
                break;
        }

        // Whole seconds: the replay's lines give seconds, and a hijack's first message is at exactly this time.
        return At(day, 0).AddSeconds(Math.Floor(hour * 3600));
    }
}
