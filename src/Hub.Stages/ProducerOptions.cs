namespace Hub.Stages;

/// <summary>Options for a producer or producer-consumer.</summary>
public sealed class ProducerOptions
{
    /// <summary>The default buffer size of a producer: 10,000 events.</summary>
    public const int DefaultBufferSize = 10_000;

    /// <summary>A buffer size meaning "no limit" (the default for a producer-consumer).</summary>
    public const int Unbounded = int.MaxValue;

    /// <summary>The default options.</summary>
    public static ProducerOptions Default { get; } = new();

    /// <summary>
    /// How many events emitted without demand are kept; <see langword="null"/> means the stage's default
    /// (<see cref="DefaultBufferSize"/> for a producer, <see cref="Unbounded"/> for a producer-consumer).
    /// </summary>
    public int? BufferSize { get; init; }

    /// <summary>Which events a full buffer keeps; default <see cref="BufferKeep.Last"/>.</summary>
    public BufferKeep BufferKeep { get; init; } = BufferKeep.Last;

    /// <summary>Whether demand is served at once (default) or accumulated until forwarded.</summary>
    public ProducerDemand Demand { get; init; } = ProducerDemand.Forward;

    internal int ResolveBufferSize(int stageDefault)
    {
        int size = BufferSize ?? stageDefault;
        if (size < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BufferSize), size, $"{nameof(BufferSize)} must be between 0 and {Unbounded} (got {size})");
        }

        return size;
    }
}
