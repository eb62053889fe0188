using System.Text.Json;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// What one subscription received, in order, and a ledger of the credits the client granted, so a test can prove the
/// server never sent more than it was given, never repeated or reordered an event, and sent what matched.
/// </summary>
public sealed class SubscriptionLog(string id)
{
    private readonly Lock _gate = new();
    private readonly List<JsonElement> _events = [];
    private readonly List<long> _sequences = [];
    private readonly List<int> _batchSizes = [];
    private readonly List<JsonElement> _gaps = [];
    private readonly List<string> _violations = [];
    private readonly List<(Func<bool> Condition, TaskCompletionSource Done)> _waiters = [];
    private long _granted;
    private long _lastSequence = -1;
    private int _count;
    private string? _endedReason;

    public string Id { get; } = id;

    /// <summary>The position Subscribe answered.</summary>
    public long Position { get; set; }

    /// <summary>The log's epoch, as the answer to Subscribe gave it.</summary>
    public string? Epoch { get; set; }

    /// <summary>Keep each event's envelope and sequence (default), or only count them and check their order (for load
    /// tests, so the test's own memory stays flat).</summary>
    public bool RecordEvents { get; set; } = true;

    /// <summary>Called after each batch is recorded (on the client's receive loop), e.g. to re-ask.</summary>
    public Action<SubscriptionLog, int>? OnBatch { get; set; }

    public IReadOnlyList<JsonElement> Events { get { lock (_gate) { return [.. _events]; } } }

    public IReadOnlyList<long> Sequences { get { lock (_gate) { return [.. _sequences]; } } }

    public IReadOnlyList<int> BatchSizes { get { lock (_gate) { return [.. _batchSizes]; } } }

    public IReadOnlyList<JsonElement> Gaps { get { lock (_gate) { return [.. _gaps]; } } }

    /// <summary>Protocol breaches seen: more events than credits, a sequence not above the last, an empty batch.</summary>
    public IReadOnlyList<string> Violations { get { lock (_gate) { return [.. _violations]; } } }

    public int Count { get { lock (_gate) { return _count; } } }

    /// <summary>The last sequence received (or skipped by a gap); -1 before any.</summary>
    public long LastSequence { get { lock (_gate) { return _lastSequence; } } }

    public string? EndedReason { get { lock (_gate) { return _endedReason; } } }

    public long Granted { get { lock (_gate) { return _granted; } } }

    internal void Grant(long n)
    {
        lock (_gate)
        {
            _granted += n;
        }
    }

    internal void OnEvents(JsonElement batch)
    {
        var count = batch.GetArrayLength();
        lock (_gate)
        {
            if (count == 0)
            {
                _violations.Add("an empty events batch");
            }

            if (_count + count > _granted)
            {
                _violations.Add($"received {_count + count} events with only {_granted} credits granted");
            }

            _count += count;

            foreach (var e in batch.EnumerateArray())
            {
                var sequence = e.GetProperty("sequence").GetInt64();
                if (sequence <= _lastSequence)
                {
                    _violations.Add($"sequence {sequence} after {_lastSequence}");
                }

                _lastSequence = sequence;
                if (RecordEvents)
                {
                    _sequences.Add(sequence);
                    _events.Add(e);
                }
            }

            _batchSizes.Add(count);
        }

        OnBatch?.Invoke(this, count);
        Signal();
    }

    internal void OnGap(JsonElement gap)
    {
        lock (_gate)
        {
            _gaps.Add(gap);
            var to = gap.GetProperty("to").GetInt64();
            if (gap.GetProperty("from").GetInt64() <= _lastSequence)
            {
                _violations.Add($"a gap from {gap.GetProperty("from").GetInt64()} after sequence {_lastSequence}");
            }

            _lastSequence = Math.Max(_lastSequence, to);
        }

        Signal();
    }

    internal void OnEnded(JsonElement ended)
    {
        lock (_gate)
        {
            _endedReason = ended.GetProperty("reason").GetString();
        }

        Signal();
    }

    /// <summary>Completes when <paramref name="condition"/> holds, or fails after <paramref name="timeout"/> (default 20 s).</summary>
    public Task WaitUntilAsync(Func<SubscriptionLog, bool> condition, TimeSpan? timeout = null, string? what = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _waiters.Add((() => condition(this), done));
        }

        Signal();
        return done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(20)).ContinueWith(
            t => t.IsFaulted
                ? throw new TimeoutException($"subscription {Id}: {what ?? "condition"} not met; it has {Count} events, gaps {Gaps.Count}, ended {EndedReason ?? "no"}")
                : t,
            TaskScheduler.Default).Unwrap();
    }

    public Task WaitForCountAsync(int count, TimeSpan? timeout = null) => WaitUntilAsync(s => s.Count >= count, timeout, $"{count} events");

    public Task WaitForEndedAsync(TimeSpan? timeout = null) => WaitUntilAsync(s => s.EndedReason is not null, timeout, "ended");

    private void Signal()
    {
        List<TaskCompletionSource> ready = [];
        lock (_gate)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                // Conditions read this log's state through its locked getters; Lock is re-entrant.
                if (_waiters[i].Condition())
                {
                    ready.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var done in ready)
        {
            done.TrySetResult();
        }
    }
}
