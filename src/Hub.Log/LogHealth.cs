namespace Hub.Log;

/// <summary>What a log can do now: the readiness and liveness checks read it (<c>/health/ready</c>, <c>/health/live</c>).</summary>
/// <param name="State">Whether it takes appends now, later by itself, or not until the hub restarts.</param>
/// <param name="Description">What is wrong, or what is right, in words for the health report and the logs.</param>
public readonly record struct LogHealth(LogState State, string Description)
{
    /// <summary>A log that takes appends.</summary>
    public static LogHealth Writable(string description) => new(LogState.Writable, description);
}

/// <summary>A log's state, as the health checks see it.</summary>
public enum LogState
{
    /// <summary>Appends are taken: ready and alive.</summary>
    Writable,

    /// <summary>
    /// The last write failed (the disk is full, an I/O error, the file is locked elsewhere): appends are refused with
    /// <see cref="LogUnavailableException"/> until a write succeeds again, which the log tries by itself. Not ready,
    /// alive (a restart would not help).
    /// </summary>
    Unwritable,

    /// <summary>
    /// The log can no longer be written without a restart (its writer stopped on an unexpected error, or its file was
    /// deleted or replaced under it): every append is refused at once. Neither ready nor alive, so that an orchestrator
    /// restarts the hub.
    /// </summary>
    Failed,
}
