namespace Hub.Stages;

/// <summary>Why a stage stopped or a subscription ended (GenStage's exit/cancel reasons).</summary>
public sealed class StageExitReason
{
    private StageExitReason(string name, bool isNormal, Exception? exception)
    {
        Name = name;
        IsNormal = isNormal;
        Exception = exception;
    }

    /// <summary>An orderly end (<c>:normal</c>).</summary>
    public static StageExitReason Normal { get; } = new("normal", true, null);

    /// <summary>An orderly end requested by the owner (<c>:shutdown</c>).</summary>
    public static StageExitReason Shutdown { get; } = new("shutdown", true, null);

    /// <summary>The producer was not running when the consumer subscribed (<c>:noproc</c>).</summary>
    public static StageExitReason NoProducer { get; } = new("noproc", false, null);

    /// <summary>A cursor broadcast log moved past the subscriber, whose policy is <c>Disconnect</c>.</summary>
    public static StageExitReason Overflow { get; } = new("overflow", false, null);

    /// <summary>The reason's name, e.g. <c>normal</c>.</summary>
    public string Name { get; }

    /// <summary>True for <see cref="Normal"/> and <see cref="Shutdown"/>: a transient consumer survives these.</summary>
    public bool IsNormal { get; }

    /// <summary>The failure, when a callback threw.</summary>
    public Exception? Exception { get; }

    /// <summary>An abnormal reason carrying a failure.</summary>
    public static StageExitReason Error(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new StageExitReason("error", false, exception);
    }

    /// <summary>
    /// A <see cref="ConsumerSupervisor{T}"/> gave up: its children needed more than <c>MaxRestarts</c> restarts within
    /// <c>MaxSeconds</c> (<c>reached_max_restart_intensity</c>). <see cref="Exception"/> is the last child's failure.
    /// </summary>
    /// <remarks>
    /// GenStage's supervisor exits with <c>:shutdown</c> here, a reason a transient link treats as orderly; Hub's is
    /// abnormal, because a supervisor that gave up on its children has failed at its job.
    /// </remarks>
    public static StageExitReason MaxRestartIntensity(Exception? lastFailure) => new("reached_max_restart_intensity", false, lastFailure);

    /// <summary>An abnormal reason with a name of the caller's choice.</summary>
    public static StageExitReason Custom(string name) => new(name, false, null);

    /// <inheritdoc/>
    public override string ToString() => Exception is null ? Name : $"{Name}: {Exception.Message}";
}
