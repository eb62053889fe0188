namespace Hub.Stages;

/// <summary>The kinds of <see cref="StageDiagnostic"/>.</summary>
public enum StageDiagnosticKind
{
    /// <summary>A producer's buffer was full; <see cref="StageDiagnostic.Count"/> events were discarded.</summary>
    BufferOverflow,

    /// <summary>A consumer received <see cref="StageDiagnostic.Count"/> more events than it asked for (a protocol error).</summary>
    ExcessEvents,

    /// <summary>A <see cref="ConsumerSupervisor{T}"/>'s child ended abnormally (its task faulted or was cancelled from elsewhere).</summary>
    ChildFailed,

    /// <summary>A <see cref="ConsumerSupervisor{T}"/>'s child template threw instead of starting a child.</summary>
    ChildStartFailed,

    /// <summary>
    /// A <see cref="Dispatchers.DemandDispatcher{T}"/>'s subscriber asked for <see cref="StageDiagnostic.Count"/> events,
    /// more than the maximum demand it expects (the first ask it got): subscribers with different <c>maxDemand</c>s
    /// overload the greedy ones (GenStage's DemandDispatcher warns of it the same way).
    /// </summary>
    DemandMismatch,
}
