namespace Hub.Client;

/// <summary>Where a published event went.</summary>
/// <param name="Sequence">Its position in the log (the first publish's, for a duplicate).</param>
/// <param name="Topic">Its topic.</param>
/// <param name="Id">Its id, when it had one.</param>
/// <param name="Duplicate">The same <c>(topic, id)</c> was published before: nothing was appended.</param>
public sealed record PublishedEvent(long Sequence, string Topic, string? Id, bool Duplicate);
