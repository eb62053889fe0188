using Hub.Stages.Dispatchers;
using Hub.Stages.Runtime;

namespace Hub.Stages;

/// <summary>
/// A stage that emits events against its consumers' demand. Override <see cref="HandleDemandAsync"/>.
/// </summary>
/// <remarks>
/// <see cref="HandleDemandAsync"/> may return exactly the demand, more (the excess goes to the buffer) or fewer (the
/// producer remembers the unmet demand itself; it is not asked again for it). Events can also be emitted without
/// demand, through <see cref="EmitAsync"/> or <see cref="Emit"/>: what no subscriber can take waits in the buffer
/// (default 10,000 events, <see cref="BufferKeep.Last"/>), and new demand is served from the buffer before
/// <see cref="HandleDemandAsync"/> is called.
/// </remarks>
/// <typeparam name="T">The events it emits.</typeparam>
public abstract class Producer<T> : Stage, IProducer<T>, IProducerHost
{
    private readonly ProducerSide<T> _side;

    /// <summary>Creates a producer.</summary>
    /// <param name="dispatcher">How events reach subscribers; default a new <see cref="DemandDispatcher{T}"/>.</param>
    /// <param name="options">Buffer and demand options; default <see cref="ProducerOptions.Default"/>.</param>
    /// <param name="name">A name for diagnostics.</param>
    protected Producer(IDispatcher<T>? dispatcher = null, ProducerOptions? options = null, string? name = null)
        : base(name)
    {
        _side = new ProducerSide<T>(this, this, dispatcher ?? new DemandDispatcher<T>(), options ?? ProducerOptions.Default, ProducerOptions.DefaultBufferSize);
    }

    /// <inheritdoc/>
    public int BufferedCount => _side.BufferedCount;

    /// <inheritdoc/>
    public long DroppedCount => _side.DroppedCount;

    ProducerSide<T> IProducer<T>.Side => _side;

    /// <summary>Emits events without demand (GenStage's <c>handle_info</c>/<c>handle_call</c> returning events); completes once dispatched or buffered.</summary>
    public Task EmitAsync(ReadOnlyMemory<T> events) => InvokeAsync(() =>
    {
        _side.Emit(events);
        return _side.PumpAsync();
    });

    /// <summary>Switches between serving demand and accumulating it; forwarding replays the held asks in order.</summary>
    public Task SetDemandModeAsync(ProducerDemand mode) => InvokeAsync(() => _side.SetDemandModeAsync(mode));

    /// <summary>Serves <paramref name="demand"/>: returns the events to dispatch (any number).</summary>
    protected abstract ValueTask<ReadOnlyMemory<T>> HandleDemandAsync(long demand);

    /// <summary>
    /// Emits events from within one of this stage's callbacks (or an <see cref="Stage.InvokeAsync(Action)"/> action).
    /// Must not be called from anywhere else.
    /// </summary>
    protected void Emit(ReadOnlyMemory<T> events) => _side.Emit(events);

    async ValueTask IProducerHost.HandleDemandAsync(long demand)
    {
        ReadOnlyMemory<T> events = await HandleDemandAsync(demand).ConfigureAwait(false);
        _side.Emit(events);
    }

    private protected override ValueTask AfterInvokeAsync() => _side.PumpAsync();

    private protected override void OnStopped(StageExitReason reason) => _side.OnStopped(reason);
}
