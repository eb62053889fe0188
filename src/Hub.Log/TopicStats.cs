namespace Hub.Log;

/// <summary>A topic seen by the log: how many events were published to it and the sequence of the last one.</summary>
public readonly record struct TopicStats(string Topic, long Count, long LastSequence);
