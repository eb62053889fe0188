namespace Hub.Stages;

/// <summary>Whether a producer serves demand as it arrives or holds it.</summary>
public enum ProducerDemand
{
    /// <summary>Serve demand as it arrives (default).</summary>
    Forward,

    /// <summary>Hold each ask, unmerged, until switched to <see cref="Forward"/>; then replay them in order.</summary>
    Accumulate,
}
