using Hub.Stages.Dispatchers;

namespace Hub.Stages.Tests.Support;

/// <summary>A dispatch sink that records every call, for driving dispatchers directly.</summary>
internal sealed class RecordingSink<T> : IDispatchSink<T>
{
    public List<(long Id, ReadOnlyMemory<T> Events)> Deliveries { get; } = [];

    public List<(long Id, long From, long To)> Gaps { get; } = [];

    public List<(long Id, long From, long To)> Disconnects { get; } = [];

    public List<StageDiagnostic> Reports { get; } = [];

    public List<(long Id, T[] Events)> Acknowledgements { get; } = [];

    /// <summary>Subscribers this sink says cannot take more now (<see cref="IDispatchSink{T}.CanTake"/>).</summary>
    public HashSet<long> CannotTake { get; } = [];

    public T[] AcknowledgedBy(long id) => Acknowledgements.Where(a => a.Id == id).SelectMany(a => a.Events).ToArray();

    public T[] EventsOf(long id) => Deliveries.Where(d => d.Id == id).SelectMany(d => d.Events.ToArray()).ToArray();

    public T[][] BatchesOf(long id) => Deliveries.Where(d => d.Id == id).Select(d => d.Events.ToArray()).ToArray();

    public void Clear()
    {
        Deliveries.Clear();
        Gaps.Clear();
        Disconnects.Clear();
        Reports.Clear();
        Acknowledgements.Clear();
    }

    public void Deliver(long subscriberId, ReadOnlyMemory<T> events) => Deliveries.Add((subscriberId, events));

    public void Gap(long subscriberId, long fromSequence, long toSequence) => Gaps.Add((subscriberId, fromSequence, toSequence));

    public void Disconnect(long subscriberId, long fromSequence, long toSequence) => Disconnects.Add((subscriberId, fromSequence, toSequence));

    public void Report(StageDiagnostic diagnostic) => Reports.Add(diagnostic);

    public bool CanTake(long subscriberId) => !CannotTake.Contains(subscriberId);

    public void Acknowledged(long subscriberId, ReadOnlySpan<T> events) => Acknowledgements.Add((subscriberId, events.ToArray()));
}
