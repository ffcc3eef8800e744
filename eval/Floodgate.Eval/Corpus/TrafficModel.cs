using System.Globalization;

namespace Floodgate.Eval.Corpus;

/// <summary>
/// One account's messages over the corpus: its legitimate pattern, then its hijack's spam beside it. Each account draws
/// from its own generator, seeded by the corpus seed and its index, so accounts are made independently.
/// </summary>
internal sealed class TrafficModel
{
    private const double HarvestedBounceRate = 0.35;

    private readonly CorpusPlan _plan;
    private readonly int _index;
    private readonly CorpusAccount _account;
    private readonly Random _random;
    private readonly List<GeneratedMessage> _messages = [];
    private readonly string _pc;
    private readonly string _home;
    private readonly string[] _colleagues;
    private readonly string[] _contacts;
    private readonly double _rate;
    private readonly bool _afterHours;

    public TrafficModel(CorpusPlan plan, int index)
    {
        _plan = plan;
        _index = index;
        _account = plan.Accounts[index];
        _random = new Random(unchecked((plan.Options.Seed * 1_000_003) + index));
        _pc = $"10.20.{index / 250}.{(index % 250) + 2}";
        _home = $"{81 + (index % 60)}.{(index * 7 % 250) + 1}.{(index * 13 % 250) + 1}.";
        _colleagues = [.. Enumerable.Range(0, _random.Next(8, 26)).Select(_ => plan.Staff[_random.Next(plan.Staff.Length)]).Where(c => c != _account.Login).Distinct()];
        var domains = Enumerable.Range(0, _random.Next(3, 11)).Select(_ => plan.PartnerDomains[(int)(plan.PartnerDomains.Length * Math.Pow(_random.NextDouble(), 2))]).Distinct().ToArray();
        _contacts = [.. Enumerable.Range(0, _random.Next(5, 31)).Select(_ => $"{CorpusPlan.FirstName(_random.Next(100))}.{CorpusPlan.LastName(_random.Next(100))}@{domains[_random.Next(domains.Length)]}").Distinct()];
        _rate = Math.Clamp(Math.Exp(Normal(Math.Log(12), 0.6)), 2, 60);
        _afterHours = _random.NextDouble() < 0.25;
    }

    public List<GeneratedMessage> Generate()
    {
        switch (_account.Pattern)
        {
            case Archetype.Newsletter:
                Newsletter();
                break;
            case Archetype.NotificationSender:
                Notifications();
                break;
            default:
                Person();
                break;
        }

        if (_account.Hijack is { } hijack)
        {
            Hijack(hijack, _account.HijackStart!.Value);
        }

        return _messages;
    }

    private void Person()
    {
        var days = _plan.Options.Days;
        var instance = _plan.Instances[_index];
        for (var day = _account.FirstDay; day < days; day++)
        {
            switch (_account.Pattern)
            {
                case Archetype.Traveller when day >= _plan.TripFirstDay && day < _plan.TripFirstDay + 5:
                    // A hotel, an airport, a conference: a network never seen before each day, the day shifted by the time zone.
                    var hotel = Public();
                    OfficeDay(day, shift: 5, network: () => hotel + _random.Next(2, 250), newContacts: 0.2);
                    break;
                case Archetype.BackFromLeave when day >= 2 && day < BackDay():
                    break;
                case Archetype.BackFromLeave when day == BackDay():
                    var backlog = _random.Next(60, 91);
                    for (var i = 0; i < backlog; i++)
                    {
                        Send(_plan.At(day, 8 + (_random.NextDouble() * 6)), _pc, Ordinary(0.03), LegitSize(), spam: false);
                    }

                    break;
                case Archetype.NewEmployee when day == _account.FirstDay:
                    Send(_plan.At(day, 10 + _random.NextDouble()), _pc, [.. Enumerable.Range(0, 40).Select(_ => Colleague()).Distinct()], LegitSize(), spam: false);
                    OfficeDay(day, rateFactor: 0.5);
                    break;
                default:
                    OfficeDay(day);
                    break;
            }

            if (_account.Pattern == Archetype.Manager && day == Math.Min(_plan.HijackFirstDay + 1, days - 1))
            {
                Send(_plan.At(day, 9.5 + (_random.NextDouble() / 2)), _pc,
                    [.. _plan.Staff.Where(s => s != _account.Login).Select(s => new GeneratedRecipient(s, Internal: true, Bounced: false))], LegitSize(), spam: false);
            }

            if (_account.Pattern == Archetype.SalesMailMerge && day == MailMergeDay(instance))
            {
                MailMerge(day, instance);
            }
        }
    }

    // The first merge in week 2, the second in week 3 among the hijacks; 400 and 650 leads (over the static hourly limit).
    private int MailMergeDay(int instance) => Math.Min(instance == 0 ? _plan.TripFirstDay + 1 : _plan.HijackFirstDay + 1, _plan.Options.Days - 1);

    private void MailMerge(int day, int instance)
    {
        var leads = instance switch { 0 => 400, 1 => 650, _ => 300 + (100 * instance) };
        var t = _plan.At(day, instance == 0 ? 14 : 10);
        for (var i = 0; i < leads; i++)
        {
            var domain = $"lead{_index}-{i}-{CorpusPlan.Domain(_random.Next(1000))}";
            Send(t, _pc, [new GeneratedRecipient($"{CorpusPlan.FirstName(_random.Next(100))}@{domain}", Internal: false, Bounced: _random.NextDouble() < 0.06)], LegitSize(), spam: false);
            t = t.AddSeconds(2 + (_random.NextDouble() * 5));
        }
    }

    private int BackDay()
    {
        var day = _plan.Options.Days >= 21 ? 16 : Math.Max(3, _plan.Options.Days - 2);
        while (!CorpusPlan.IsWeekday(day) && day + 1 < _plan.Options.Days)
        {
            day++;
        }

        return day;
    }

    private void OfficeDay(int day, double shift = 0, Func<string>? network = null, double newContacts = 0.06, double rateFactor = 1)
    {
        if (CorpusPlan.IsWeekday(day))
        {
            var n = Poisson(_rate * rateFactor);
            var begin = 7.5 + (_random.NextDouble() * 2) + shift;
            var end = 16.5 + (_random.NextDouble() * 2.5) + shift;
            for (var i = 0; i < n; i++)
            {
                var address = network?.Invoke() ?? (_random.NextDouble() < 0.9 ? _pc : Phone());
                Send(_plan.At(day, begin + (_random.NextDouble() * (end - begin))), address, Ordinary(newContacts), LegitSize(), spam: false);
            }

            if (_afterHours && _random.NextDouble() < 0.3)
            {
                Evening(day, 19, 3.5, _random.Next(1, 4));
            }
        }
        else if (_afterHours && _random.NextDouble() < 0.35)
        {
            Evening(day, 10, 11, _random.Next(1, 5));
        }
    }

    private void Evening(int day, double from, double hours, int n)
    {
        for (var i = 0; i < n; i++)
        {
            Send(_plan.At(day, from + (_random.NextDouble() * hours)), _random.NextDouble() < 0.8 ? _home + _random.Next(2, 250) : Phone(),
                Ordinary(0.06), LegitSize(), spam: false);
        }
    }

    private void Newsletter()
    {
        var instance = _plan.Instances[_index];
        var subscribers = Enumerable.Range(0, 3200 + (400 * instance)).Select(_ =>
        {
            var domain = _random.NextDouble() < 0.6 ? _plan.Freemail[_random.Next(_plan.Freemail.Length)] : $"{CorpusPlan.Domain(_random.Next(1500))}";
            return new GeneratedRecipient($"{CorpusPlan.FirstName(_random.Next(100))}.{CorpusPlan.LastName(_random.Next(100))}{_random.Next(1000)}@{domain}",
                Internal: false, Bounced: _random.NextDouble() < 0.015);
        }).DistinctBy(r => r.Address).ToArray();
        var server = $"10.20.250.{10 + instance}";
        for (var day = 0; day < _plan.Options.Days; day++)
        {
            if (day % 7 == 1)
            {
                var t = _plan.At(day, 10);
                foreach (var subscriber in subscribers)
                {
                    Send(t, server, [subscriber], 40_000 + _random.Next(40_000), spam: false);
                    t = t.AddSeconds(0.8 + (_random.NextDouble() * 0.8));
                }
            }

            // Sign-up confirmations and replies to readers, in working hours.
            var n = CorpusPlan.IsWeekday(day) ? _random.Next(2, 9) : _random.Next(0, 2);
            for (var i = 0; i < n; i++)
            {
                Send(_plan.At(day, 8 + (_random.NextDouble() * 10)), server,
                    [new GeneratedRecipient($"{CorpusPlan.FirstName(_random.Next(100))}{_random.Next(10_000)}@{_plan.Freemail[_random.Next(_plan.Freemail.Length)]}", Internal: false, Bounced: _random.NextDouble() < 0.03)],
                    6_000 + _random.Next(4_000), spam: false);
            }
        }
    }

    private void Notifications()
    {
        var server = $"10.20.251.{10 + _plan.Instances[_index]}";
        var customers = Enumerable.Range(0, 1500).Select(i => $"customer{i}@{CorpusPlan.Domain(_random.Next(600))}").ToArray();
        for (var day = 0; day < _plan.Options.Days; day++)
        {
            // The daily reports: one to each of 60 members of staff, a few seconds apart.
            var t = _plan.At(day, 6);
            for (var i = 0; i < 60; i++)
            {
                Send(t, server, [new GeneratedRecipient(_plan.Staff[(i * 7) % _plan.Staff.Length], Internal: true, Bounced: false)], 12_000 + _random.Next(8_000), spam: false);
                t = t.AddSeconds(5 + (_random.NextDouble() * 5));
            }

            for (var hour = 0; hour < 24; hour++)
            {
                var n = Poisson(CorpusPlan.IsWeekday(day) && hour is >= 8 and < 18 ? 30 : 8);
                for (var i = 0; i < n; i++)
                {
                    var recipient = _random.NextDouble() < 0.7
                        ? new GeneratedRecipient(_plan.Staff[_random.Next(_plan.Staff.Length)], Internal: true, Bounced: false)
                        : new GeneratedRecipient(customers[_random.Next(customers.Length)], Internal: false, Bounced: _random.NextDouble() < 0.01);
                    Send(_plan.At(day, hour + _random.NextDouble()), server, [recipient], 3_000 + _random.Next(5_000), spam: false);
                }
            }
        }
    }

    private void Hijack(Archetype hijack, DateTimeOffset start)
    {
        var t = start;
        switch (hijack)
        {
            case Archetype.OvernightBlast:
                string[] blasters = [Foreign() + _random.Next(2, 250), Foreign() + _random.Next(2, 250), Foreign() + _random.Next(2, 250)];
                while (t < start.AddHours(4) && t < _plan.End)
                {
                    Send(t, blasters[_random.Next(3)], Harvested(_random.Next(1, 4), HarvestedBounceRate), SpamSize(), spam: true);
                    t = t.AddSeconds(0.6 + (_random.NextDouble() * 1.2));
                }

                break;
            case Archetype.SlowDrip:
                while (t < _plan.End)
                {
                    Send(t, Public() + _random.Next(2, 250), Harvested(1, HarvestedBounceRate), SpamSize(), spam: true);
                    t = t.AddSeconds(38 + (_random.NextDouble() * 20));
                }

                break;
            case Archetype.LowAndSlowBcc:
                string[] hosts = [Foreign() + _random.Next(2, 250), Foreign() + _random.Next(2, 250)];
                while (t < _plan.End)
                {
                    Send(t, hosts[_random.Next(2)], Harvested(_random.Next(40, 61), 0.30), SpamSize(), spam: true);
                    t = t.AddMinutes(15 + (_random.NextDouble() * 10));
                }

                break;
            case Archetype.MalwareOwnPc:
                // While the PC is on: weekdays from 08:00 to 18:00, from the address the user always sends from.
                for (var day = (int)(start - _plan.Start).TotalDays; day < _plan.Options.Days; day++)
                {
                    if (!CorpusPlan.IsWeekday(day))
                    {
                        continue;
                    }

                    t = t > _plan.At(day, 8) ? t : _plan.At(day, 8);
                    while (t < _plan.At(day, 18))
                    {
                        Send(t, _pc, Harvested(_random.Next(1, 3), HarvestedBounceRate), SpamSize(), spam: true);
                        t = t.AddSeconds(60 + (_random.NextDouble() * 60));
                    }
                }

                break;
            case Archetype.LateralPhishing:
                var attacker = Foreign() + _random.Next(2, 250);
                var known = _colleagues.Select(c => new GeneratedRecipient(c, Internal: true, Bounced: false))
                    .Concat(_contacts.Select(c => new GeneratedRecipient(c, Internal: false, Bounced: false)));
                var staff = _plan.Staff.Where(s => s != _account.Login && !_colleagues.Contains(s)).OrderBy(_ => _random.Next()).ToArray();
                GeneratedRecipient[] firstWave = [.. known, .. staff.Take(30).Select(s => new GeneratedRecipient(s, Internal: true, Bounced: false))];
                var secondWave = staff.Skip(30).Take(60).Select(s => new GeneratedRecipient(s, Internal: true, Bounced: false));
                foreach (var (wave, at) in new[] { (firstWave.AsEnumerable(), start), (secondWave, start.AddDays(1)) })
                {
                    t = at;
                    foreach (var recipient in wave)
                    {
                        if (t < _plan.End)
                        {
                            Send(t, attacker, [recipient], SpamSize(), spam: true);
                        }

                        t = t.AddSeconds(10 + (_random.NextDouble() * 30));
                    }
                }

                break;
            case Archetype.OneMessage500:
                Send(start, Foreign() + _random.Next(2, 250), Harvested(500, HarvestedBounceRate), SpamSize(), spam: true);
                break;
            case Archetype.HijackedNewsletter:
                var sender = Foreign() + _random.Next(2, 250);
                while (t < start.AddHours(3) && t < _plan.End)
                {
                    Send(t, sender, Harvested(1, HarvestedBounceRate), SpamSize(), spam: true);
                    t = t.AddSeconds(1.2 + (_random.NextDouble() * 1.2));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(hijack), hijack, "not a hijack archetype");
        }
    }

    private void Send(DateTimeOffset time, string client, GeneratedRecipient[] recipients, long size, bool spam)
    {
        if (time >= _plan.End || recipients.Length == 0)
        {
            return;
        }

        _messages.Add(new GeneratedMessage
        {
            // Microseconds, as the log's stamps carry them.
            Time = new DateTimeOffset(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero),
            Account = _index,
            Sequence = _messages.Count,
            ClientAddress = client,
            Recipients = recipients,
            Size = size,
            Spam = spam,
        });
    }

    private void Send(DateTimeOffset time, string client, string[] colleagues, long size, bool spam) =>
        Send(time, client, [.. colleagues.Select(c => new GeneratedRecipient(c, Internal: true, Bounced: false))], size, spam);

    // One to three recipients mostly, a few to up to eight: colleagues, the account's contacts, now and then someone new.
    private GeneratedRecipient[] Ordinary(double newContacts)
    {
        var u = _random.NextDouble();
        var n = u < 0.68 ? 1 : u < 0.85 ? 2 : u < 0.93 ? 3 : _random.Next(4, 9);
        var recipients = new List<GeneratedRecipient>(n);
        for (var i = 0; i < n; i++)
        {
            var kind = _random.NextDouble();
            var recipient = kind < newContacts
                ? new GeneratedRecipient($"{CorpusPlan.FirstName(_random.Next(100))}.{CorpusPlan.LastName(_random.Next(100))}@{_plan.PartnerDomains[_random.Next(_plan.PartnerDomains.Length)]}", Internal: false, Bounced: _random.NextDouble() < 0.03)
                : kind < 0.4 && _contacts.Length > 0
                    ? new GeneratedRecipient(_contacts[_random.Next(_contacts.Length)], Internal: false, Bounced: _random.NextDouble() < 0.003)
                    : new GeneratedRecipient(Colleague(), Internal: true, Bounced: false);
            if (recipients.All(r => r.Address != recipient.Address))
            {
                recipients.Add(recipient);
            }
        }

        return [.. recipients];
    }

    private string Colleague() => _colleagues.Length > 0 ? _colleagues[_random.Next(_colleagues.Length)] : _plan.Staff[_random.Next(_plan.Staff.Length)];

    // A bought or scraped list: freemail and random domains; a share of the addresses do not exist (5.1.1).
    private GeneratedRecipient[] Harvested(int n, double bounceRate)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var recipients = new GeneratedRecipient[n];
        for (var i = 0; i < n;)
        {
            var domain = _random.NextDouble() < 0.5 ? _plan.Freemail[_random.Next(_plan.Freemail.Length)] : $"d{_random.Next(20_000)}.example.net";
            var address = $"{CorpusPlan.FirstName(_random.Next(100))}{CorpusPlan.LastName(_random.Next(100))[0]}{_random.Next(100_000)}@{domain}";
            if (seen.Add(address))
            {
                recipients[i++] = new GeneratedRecipient(address, Internal: false, Bounced: _random.NextDouble() < bounceRate);
            }
        }

        return recipients;
    }

    private string Phone() => $"172.56.{_random.Next(8)}.{_random.Next(2, 250)}";

    // Somewhere on the internet (a hotel, a botnet's PC): the first three octets, a /24 never used by the company.
    private string Public()
    {
        var first = _random.Next(110, 220);
        return $"{(first is 127 or 169 or 172 or 192 ? first + 1 : first).ToString(CultureInfo.InvariantCulture)}.{_random.Next(256)}.{_random.Next(256)}.";
    }

    private string Foreign() => $"{(_random.Next(3) switch { 0 => 185, 1 => 45, _ => 91 }).ToString(CultureInfo.InvariantCulture)}.{_random.Next(256)}.{_random.Next(256)}.";

    private long LegitSize() => (long)Math.Clamp(Math.Exp(Normal(10.3, 1.1)), 800, 20_000_000);

    private long SpamSize() => 2_000 + _random.Next(7_000);

    private int Poisson(double mean)
    {
        if (mean > 60)
        {
            return Math.Max(0, (int)Math.Round(Normal(mean, Math.Sqrt(mean))));
        }

        var limit = Math.Exp(-mean);
        var n = 0;
        for (var p = _random.NextDouble(); p > limit; p *= _random.NextDouble())
        {
            n++;
        }

        return n;
    }

    private double Normal(double mean, double deviation) =>
        mean + (deviation * Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble()));
}
