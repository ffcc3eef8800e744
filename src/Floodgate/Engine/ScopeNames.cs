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
        _ => "KiB",
    };

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
