namespace Hub.Stages;

/// <summary>Options for a <see cref="ConsumerSupervisor{T}"/>: its children's restart type and its restart limit.</summary>
public sealed class ConsumerSupervisorOptions
{
    /// <summary>The default restart limit: 3 restarts…</summary>
    public const int DefaultMaxRestarts = 3;

    /// <summary>…within 5 seconds.</summary>
    public const int DefaultMaxSeconds = 5;

    /// <summary>The default options: temporary children, 3 restarts in 5 seconds, 5 seconds to shut down.</summary>
    public static ConsumerSupervisorOptions Default { get; } = new();

    /// <summary>
    /// When a child that has ended is started again with the same event: <see cref="ChildRestart.Temporary"/>
    /// (default) or <see cref="ChildRestart.Transient"/>; <see cref="ChildRestart.Permanent"/> is rejected.
    /// </summary>
    public ChildRestart Restart { get; init; } = ChildRestart.Temporary;

    /// <summary>
    /// How many restarts (of all children together) the supervisor allows within <see cref="MaxSeconds"/>; one more
    /// stops it with <see cref="StageExitReason.MaxRestartIntensity"/>. Default <see cref="DefaultMaxRestarts"/>, at least 0.
    /// </summary>
    public int MaxRestarts { get; init; } = DefaultMaxRestarts;

    /// <summary>The window, in seconds, in which <see cref="MaxRestarts"/> applies. Default <see cref="DefaultMaxSeconds"/>, at least 0.</summary>
    public int MaxSeconds { get; init; } = DefaultMaxSeconds;

    /// <summary>
    /// How long a stopping supervisor waits for its children to end after cancelling their token, before its
    /// <see cref="Stage.Completion"/> completes without them. Default 5 seconds; <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock of the restart window and the shutdown timeout; default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the option and its allowed values when one is invalid.</summary>
    internal void Validate()
    {
        if (Restart == ChildRestart.Permanent)
        {
            throw new ArgumentException(
                $"{nameof(Restart)} {nameof(ChildRestart.Permanent)} is not supported by a consumer supervisor: use {nameof(ChildRestart.Temporary)}, so children started for events are never restarted, or {nameof(ChildRestart.Transient)}, so they are restarted only after an abnormal end.",
                "options");
        }

        if (!Enum.IsDefined(Restart))
        {
            throw new ArgumentException($"{nameof(Restart)} must be {nameof(ChildRestart.Temporary)} or {nameof(ChildRestart.Transient)} (got {Restart}).", "options");
        }

        if (MaxRestarts < 0)
        {
            throw new ArgumentException($"{nameof(MaxRestarts)} must be at least 0 (got {MaxRestarts}).", "options");
        }

        if (MaxSeconds < 0)
        {
            throw new ArgumentException($"{nameof(MaxSeconds)} must be at least 0 (got {MaxSeconds}).", "options");
        }

        if (ShutdownTimeout < TimeSpan.Zero && ShutdownTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"{nameof(ShutdownTimeout)} must be zero or more, or infinite (got {ShutdownTimeout}).", "options");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
