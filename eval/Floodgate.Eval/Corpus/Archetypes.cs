namespace Floodgate.Eval.Corpus;

/// <summary>The archetypes' names in the labels and the tables, and what each one is, in a mail admin's words.</summary>
public static class Archetypes
{
    private static readonly (Archetype Archetype, string Name, string Description)[] All =
    [
        (Archetype.OfficeWorker, "office_worker", "weekdays in working hours, mostly to colleagues and a stable set of external contacts, from the office PC, home and a phone"),
        (Archetype.Manager, "manager_announcement", "an office worker who once sends one announcement to every member of staff"),
        (Archetype.SalesMailMerge, "sales_mail_merge", "an office worker whose mail-merge sends several hundred messages in under an hour to external domains never written to"),
        (Archetype.Newsletter, "newsletter", "every Tuesday at 10:00 one message per subscriber, thousands in about an hour, from the marketing server"),
        (Archetype.NotificationSender, "notification_sender", "an application's notices around the clock, and a batch of daily reports at 06:00"),
        (Archetype.Traveller, "traveller", "an office worker on a trip for a working week: a new hotel, airport or conference network each day, hours shifted"),
        (Archetype.NewEmployee, "new_employee", "starts in the middle of the corpus with no history: an introduction to many colleagues, then ordinary days"),
        (Archetype.BackFromLeave, "back_from_leave", "two weeks away, then a morning catching up: dozens of replies in a few hours"),
        (Archetype.OvernightBlast, "overnight_blast", "at 01:00 from three foreign addresses, about 3,000 messages an hour for four hours to a harvested list"),
        (Archetype.SlowDrip, "slow_drip", "a rotating botnet: every message from another network, about 75 an hour around the clock, one recipient each, under every static limit"),
        (Archetype.LowAndSlowBcc, "low_and_slow_bcc", "every 15 to 25 minutes one message with 40 to 60 bcc recipients, from two hosting addresses"),
        (Archetype.MalwareOwnPc, "malware_own_pc", "malware on the user's own office PC, the same address as always: about 40 messages an hour while the PC is on"),
        (Archetype.LateralPhishing, "lateral_phishing", "phishing to the user's own contacts and colleagues from a new network, one message each, two waves"),
        (Archetype.OneMessage500, "one_message_500", "one message to 500 harvested recipients from a new network"),
        (Archetype.HijackedNewsletter, "hijacked_newsletter", "the newsletter account's password: 2,000 spam messages an hour for three hours, on a night that is not newsletter day"),
    ];

    /// <summary>The legitimate archetypes, in the order the tables list them.</summary>
    public static IReadOnlyList<Archetype> Legitimate { get; } = [.. All.Select(a => a.Archetype).Where(a => !IsHijack(a))];

    /// <summary>The hijack archetypes, in the order the tables list them.</summary>
    public static IReadOnlyList<Archetype> Hijacks { get; } = [.. All.Select(a => a.Archetype).Where(IsHijack)];

    public static bool IsHijack(Archetype archetype) => archetype >= Archetype.OvernightBlast;

    public static string Name(Archetype archetype) => All[(int)archetype].Name;

    public static string Describe(Archetype archetype) => All[(int)archetype].Description;

    /// <summary>The archetype of a name from a labels file that was checked on reading.</summary>
    public static Archetype Parse(string name) => TryParse(name, out var archetype) ? archetype : throw new EvalInputException($"unknown archetype {name}");

    /// <summary>The archetype of a name in a labels file; false for a name this build does not know.</summary>
    public static bool TryParse(string name, out Archetype archetype)
    {
        foreach (var a in All)
        {
            if (a.Name == name)
            {
                archetype = a.Archetype;
                return true;
            }
        }

        archetype = default;
        return false;
    }
}
