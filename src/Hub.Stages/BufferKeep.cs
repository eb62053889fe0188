namespace Hub.Stages;

/// <summary>Which events a full producer buffer keeps.</summary>
public enum BufferKeep
{
    /// <summary>Keep the newest: overflow drops the oldest (GenStage's default).</summary>
    Last,

    /// <summary>Keep the oldest: overflow drops the newest.</summary>
    First,
}
