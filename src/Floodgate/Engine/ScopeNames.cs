namespace Floodgate.Engine;

/// <summary>The configuration and log names of scopes, units, actions and verdicts.</summary>
public static class ScopeNames
{
    public static string Of(Scope scope) => scope switch
    {
        Scope.Account => "account",
        Scope.Sender => "sender",
        Scope.SenderDomain => "sender_domain",
        Scope.ClientIp => "client_ip",
        _ => throw new ArgumentOutOfRangeException(nameof(scope)),
    };

    public static bool TryParseScope(string name, out Scope scope)
    {
        scope = name switch
        {
            "account" => Scope.Account,
            "sender" => Scope.Sender,
            "sender_domain" => Scope.SenderDomain,
            "client_ip" => Scope.ClientIp,
            _ => (Scope)(-1),
        };
        return scope >= 0;
    }

    public static string Of(Verdict verdict) => verdict switch
    {
        Verdict.Accept => "accept",
        Verdict.Defer => "defer",
        Verdict.Hold => "hold",
        Verdict.Reject => "reject",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict)),
    };

    public static string Of(LimitUnit unit) => unit switch
    {
        LimitUnit.Messages => "messages",
        LimitUnit.Recipients => "recipients",
        LimitUnit.UniqueRecipients => "unique recipients",
        LimitUnit.ExternalRecipients => "external recipients",
        LimitUnit.FailedRecipients => "failed recipients",
        _ => "KiB",
    };

    /// <summary>The unit as floodgate.yml writes it (unit: unique_recipients).</summary>
    public static string ConfigName(LimitUnit unit) => unit switch
    {
        LimitUnit.Bytes => "bytes",
        LimitUnit.UniqueRecipients => "unique_recipients",
        LimitUnit.ExternalRecipients => "external_recipients",
        LimitUnit.FailedRecipients => "failed_recipients",
        _ => Of(unit),
    };

    /// <summary>The units floodgate.yml accepts, in the order its errors list them.</summary>
    public static readonly string[] UnitNames = ["messages", "recipients", "bytes", "unique_recipients", "external_recipients", "failed_recipients"];

    public static bool TryParseUnit(string name, out LimitUnit unit)
    {
        var i = Array.IndexOf(UnitNames, name);
        unit = i < 0 ? LimitUnit.Messages : (LimitUnit)i;
        return i >= 0;
    }

    /// <summary>True for the units that need each message's recipient addresses (Postfix sends them only at RCPT).</summary>
    public static bool NeedsAddresses(LimitUnit unit) => unit is LimitUnit.UniqueRecipients or LimitUnit.ExternalRecipients;

    public static string Of(LimitAction action) => action switch
    {
        LimitAction.Defer => "defer",
        LimitAction.Hold => "hold",
        LimitAction.Reject => "reject",
        LimitAction.Suspend => "suspend",
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    public static string Of(EnforcementMode mode) => mode == EnforcementMode.Observe ? "observe" : "enforce";

    /// <summary>"would have deferred", "would have held", "would have rejected": an observed verdict in words.</summary>
    public static string WouldHave(Verdict verdict) => verdict switch
    {
        Verdict.Defer => "would have deferred",
        Verdict.Hold => "would have held",
        Verdict.Reject => "would have rejected",
        _ => "would have accepted",
    };
}
