namespace Floodgate.Engine;

/// <summary>
/// The domains an organisation receives mail for (local_domains): exact names, and "*.example.com" for every
/// subdomain of example.com (not example.com itself). Compared without case; a recipient without a domain is local.
/// </summary>
public sealed class DomainList
{
    private readonly HashSet<string> _exact;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _exactLookup;
    private readonly HashSet<string> _parents;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _parentLookup;

    public DomainList(IEnumerable<string>? domains = null)
    {
        _exact = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        _parents = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in domains ?? [])
        {
            var domain = raw.Trim().TrimEnd('.');
            if (domain.StartsWith("*.", StringComparison.Ordinal))
            {
                _parents.Add(domain[2..]);
            }
            else if (domain.Length > 0)
            {
                _exact.Add(domain);
            }
        }

        _exactLookup = _exact.GetAlternateLookup<ReadOnlySpan<char>>();
        _parentLookup = _parents.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public static DomainList Empty { get; } = new();

    /// <summary>The entries as configured: names, then patterns.</summary>
    public IEnumerable<string> Entries => _exact.Order(StringComparer.Ordinal).Concat(_parents.Order(StringComparer.Ordinal).Select(p => "*." + p));

    public bool IsEmpty => _exact.Count == 0 && _parents.Count == 0;

    /// <summary>True when <paramref name="address"/>'s domain is listed (or it has none); no allocation.</summary>
    public bool IsLocal(ReadOnlySpan<char> address)
    {
        var at = address.LastIndexOf('@');
        if (at < 0)
        {
            return true;
        }

        var domain = address[(at + 1)..].TrimEnd('>').TrimEnd('.');
        if (_exactLookup.Contains(domain))
        {
            return true;
        }

        // Each parent of a subdomain: mail.eu.example.com is under *.eu.example.com and *.example.com.
        for (var dot = domain.IndexOf('.'); dot >= 0 && _parents.Count > 0; dot = domain.IndexOf('.'))
        {
            domain = domain[(dot + 1)..];
            if (_parentLookup.Contains(domain))
            {
                return true;
            }
        }

        return false;
    }
}
