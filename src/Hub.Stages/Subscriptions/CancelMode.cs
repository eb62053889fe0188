namespace Hub.Stages.Subscriptions;

/// <summary>What happens to the consumer when one of its subscriptions ends. Its cancel callback runs first in every case.</summary>
public enum CancelMode
{
    /// <summary>The consumer stops whatever the reason (GenStage's default).</summary>
    Permanent,

    /// <summary>The consumer stops only when the reason is abnormal (not normal or shutdown).</summary>
    Transient,

    /// <summary>The consumer never stops because of this subscription.</summary>
    Temporary,
}
