namespace Hub.LoadGen;

/// <summary>How a subscriber takes its events.</summary>
internal enum SubscriberKind
{
    Regular,
    Slow,
    Stalled,
}
