namespace Hub.Log;

/// <summary>An append waiting in a durable log's <see cref="GroupCommitQueue"/>: its drafts, its key, and its caller's answer.</summary>
internal sealed class PendingAppend(IReadOnlyList<EventDraft> events, IdempotencyKey? idempotencyKey)
{
    public IReadOnlyList<EventDraft> Events { get; } = events;

    public IdempotencyKey? IdempotencyKey { get; } = idempotencyKey;

    public TaskCompletionSource<IReadOnlyList<AppendedEvent>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
