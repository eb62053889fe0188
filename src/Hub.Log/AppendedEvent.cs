namespace Hub.Log;

/// <summary>What the log answers for one appended event: its sequence, and whether it was a duplicate of an earlier
/// publish with the same <c>(topic, id)</c> (then the sequence is the first one's and nothing was appended).</summary>
public readonly record struct AppendedEvent(long Sequence, string Topic, string? Id, bool Duplicate);
