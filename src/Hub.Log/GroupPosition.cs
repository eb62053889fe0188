namespace Hub.Log;

/// <summary>Where a group stands in the log, kept by the log's store so a group resumes after a restart.</summary>
/// <param name="Acknowledged">Every matching event up to this sequence has been acknowledged by a member.</param>
/// <param name="Handed">The highest sequence handed to a member; events after <paramref name="Acknowledged"/> and up to
/// this one are marked redelivered when the group reads them again.</param>
public readonly record struct GroupPosition(long Acknowledged, long Handed);
