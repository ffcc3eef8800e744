namespace Floodgate.Engine;

/// <summary>An identity stopped from sending until an admin releases it.</summary>
/// <param name="Identity">Who is suspended.</param>
/// <param name="Since">When the suspension started.</param>
/// <param name="Rule">The rule that tripped it, or null when an admin suspended by hand.</param>
/// <param name="Reason">Why, in words an admin reads.</param>
/// <param name="By">"floodgate" for a rule, else the admin who acted.</param>
public sealed record Suspension(Identity Identity, DateTimeOffset Since, string? Rule, string Reason, string By)
{
    private string? _summary;

    /// <summary>"account:x is suspended since ...: reason", made once: every later message of the account reports it.</summary>
    public string Summary => _summary ??= $"{Identity} is suspended since {Since:u}: {Reason}";
}
