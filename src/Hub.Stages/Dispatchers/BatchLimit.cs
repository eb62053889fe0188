namespace Hub.Stages.Dispatchers;

/// <summary>
/// A bound on one delivery's size beside demand: a batch stops growing once the sizes of its events reach
/// <see cref="MaxSize"/> (it always holds at least one event), and the subscriber's remaining demand waits for the next
/// batch. GenStage bounds batches by demand only; a hub bounds what one message to a socket carries, in bytes.
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
/// <param name="Size">An event's size (e.g. its serialized bytes), never negative.</param>
/// <param name="MaxSize">The size at which a batch stops growing (at least 1).</param>
public sealed record BatchLimit<T>(Func<T, long> Size, long MaxSize)
{
    /// <summary>The size at which a batch stops growing (at least 1).</summary>
    public long MaxSize { get; } = MaxSize >= 1 ? MaxSize : throw new ArgumentOutOfRangeException(nameof(MaxSize), MaxSize, "A batch limit is at least 1.");

    /// <summary>An event's size.</summary>
    public Func<T, long> Size { get; } = Size ?? throw new ArgumentNullException(nameof(Size));
}
