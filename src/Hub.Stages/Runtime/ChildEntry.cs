using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>A <see cref="ConsumerSupervisor{T}"/>'s record of one child; read and written on the supervisor's turn.</summary>
internal sealed class ChildEntry<T>(long id, T item, Subscription<T>? from, bool holdsSlot)
{
    public long Id { get; } = id;

    public T Item { get; } = item;

    /// <summary>The subscription whose demand the child's slot belongs to.</summary>
    public Subscription<T>? From { get; } = from;

    /// <summary>False for a child started from events beyond the demand asked for (a protocol error): it frees no slot.</summary>
    public bool HoldsSlot { get; } = holdsSlot;

    /// <summary>The running attempt; null while a restart waits to be tried again.</summary>
    public Task? Task { get; set; }

    public int Restarts { get; set; }

    /// <summary>Why the last attempt ended abnormally or failed to start.</summary>
    public Exception? LastFailure { get; set; }

    public bool Restarting => Task is null;
}
