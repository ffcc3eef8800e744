namespace Floodgate.Eval.Corpus;

/// <summary>What an account of the corpus does: a pattern of legitimate mail, or the hijack that starts at a labelled time.</summary>
public enum Archetype
{
    OfficeWorker,
    Manager,
    SalesMailMerge,
    Newsletter,
    NotificationSender,
    Traveller,
    NewEmployee,
    BackFromLeave,
    OvernightBlast,
    SlowDrip,
    LowAndSlowBcc,
    MalwareOwnPc,
    LateralPhishing,
    OneMessage500,
    HijackedNewsletter,
}
