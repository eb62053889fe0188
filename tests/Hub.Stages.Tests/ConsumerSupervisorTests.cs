using System.Collections.Concurrent;
using Hub.Stages.Subscriptions;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests;

public class ConsumerSupervisorTests
{
    private readonly ConcurrentQueue<StageDiagnostic> _diagnostics = new();

    [Fact]
    public async Task ConsumerSupervisor_StartsOneChildPerEvent_InOrder()
    {
        var started = new ConcurrentQueue<int>();
        var supervisor = Watch(new ConsumerSupervisor<int>((item, _) =>
        {
            started.Enqueue(item);
            return Task.CompletedTask;
        }));

        await Wait.For(supervisor.SubscribeAsync(new Counter(), new() { MaxDemand = 10, MinDemand = 5 }));
        await Wait.Until(() => started.Count >= 100, "a hundred children start");

        Assert.Equal(Seq.Range(0, 99), started.Take(100));
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_MaxDemandCapsLiveChildren()
    {
        var children = new GatedChildren();
        var counter = new Counter();
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start));

        await Wait.For(supervisor.SubscribeAsync(counter, new() { MaxDemand = 10, MinDemand = 5 }));
        await Wait.Until(() => supervisor.ChildCount == 10, "ten children run");
        await Wait.Flush(supervisor, counter, supervisor);

        Assert.Equal(10, supervisor.ChildCount);
        Assert.Equal(10, supervisor.ActiveChildCount);
        Assert.Equal([10L], counter.Demands);
        Assert.Equal(Seq.Range(0, 9), children.Started);
        var which = await Wait.For(supervisor.WhichChildrenAsync());
        Assert.Equal(Seq.Range(0, 9), which.Select(child => child.Item).Order());
        Assert.All(which, child => Assert.False(child.Restarting));
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_AsksMinDemandOnceThatManySlotsFree()
    {
        var children = new GatedChildren();
        var counter = new Counter();
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start));
        await Wait.For(supervisor.SubscribeAsync(counter, new() { MaxDemand = 10, MinDemand = 5 }));
        await Wait.Until(() => supervisor.ChildCount == 10, "ten children run");

        for (int item = 0; item < 4; item++)
        {
            children.Complete(item);
        }

        await Wait.Until(() => supervisor.ChildCount == 6, "four children end");
        await Wait.Flush(supervisor, counter, supervisor);
        Assert.Equal([10L], counter.Demands);

        children.Complete(4);
        await Wait.Until(() => children.Started.Length == 15 && supervisor.ChildCount == 10, "five more children start");

        Assert.Equal([10L, 5L], counter.Demands);
        Assert.Equal(Seq.Range(0, 14), children.Started);
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_MinDemandZero_AsksForEachSlotAsItFrees()
    {
        var children = new GatedChildren();
        var counter = new Counter();
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start));
        await Wait.For(supervisor.SubscribeAsync(counter, new() { MaxDemand = 3, MinDemand = 0 }));
        await Wait.Until(() => supervisor.ChildCount == 3, "three children run");

        children.Complete(1);
        await Wait.Until(() => children.Started.Length == 4, "one more child starts");

        Assert.Equal([3L, 1L], counter.Demands);
        Assert.Equal([0, 1, 2, 3], children.Started);
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_ChildThatDeclinesOrFailsToStart_FreesItsSlotAtOnce()
    {
        // Events ≡ 0 (mod 4) are declined, ≡ 1 fail to start; max 4, min 2.
        var children = new GatedChildren(decline: item => item % 4 == 0, failToStart: item => item % 4 == 1);
        var counter = new Counter();
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start));

        await Wait.For(supervisor.SubscribeAsync(counter, new() { MaxDemand = 4, MinDemand = 2 }));
        await Wait.Until(() => supervisor.ChildCount == 4, "four children run");
        await Wait.Flush(supervisor, counter, supervisor);

        // [0..3]: two start, two slots free → ask 2; [4, 5]: neither starts → ask 2; [6, 7]: both start.
        Assert.Equal([4L, 2L, 2L], counter.Demands);
        Assert.Equal([2, 3, 6, 7], children.Started);
        Assert.Equal(2, _diagnostics.Count(d => d.Kind == StageDiagnosticKind.ChildStartFailed));
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_TemporaryChildThatFails_IsNotRestarted_AndFreesItsSlot()
    {
        var children = new GatedChildren();
        var counter = new Counter();
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start));
        await Wait.For(supervisor.SubscribeAsync(counter, new() { MaxDemand = 1, MinDemand = 0 }));
        await Wait.Until(() => children.Started.Length == 1, "the first child starts");

        children.Fail(0);
        await Wait.Until(() => children.Started.Length == 2, "the next child starts");

        Assert.Equal([0, 1], children.Started);
        Assert.Equal([1L, 1L], counter.Demands);
        Assert.Single(_diagnostics, d => d.Kind == StageDiagnosticKind.ChildFailed);
        Assert.True(supervisor.IsRunning);
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_TransientChildRestartsOnFailure_KeepingItsSlot()
    {
        var children = new GatedChildren();
        var counter = new Counter();
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start, new() { Restart = ChildRestart.Transient }));
        await Wait.For(supervisor.SubscribeAsync(counter, new() { MaxDemand = 1, MinDemand = 0 }));
        await Wait.Until(() => children.Started.Length == 1, "the first child starts");

        children.Fail(0);
        await Wait.Until(() => children.Started.Length == 2, "the child is restarted");
        await Wait.Flush(supervisor, counter, supervisor);

        Assert.Equal([0, 0], children.Started);
        Assert.Equal([1L], counter.Demands);
        var child = Assert.Single(await Wait.For(supervisor.WhichChildrenAsync()));
        Assert.Equal(new SupervisedChild<int>(0, false, 1), child);

        children.Complete(0);
        await Wait.Until(() => children.Started.Length == 3, "a completed child frees its slot");

        Assert.Equal([0, 0, 1], children.Started);
        Assert.Equal([1L, 1L], counter.Demands);
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_TransientChildCancelledFromElsewhere_IsRestarted()
    {
        int attempts = 0;
        var supervisor = Watch(new ConsumerSupervisor<int>(
            (_, _) => Interlocked.Increment(ref attempts) == 1 ? Task.FromCanceled(new CancellationToken(true)) : Task.CompletedTask,
            new() { Restart = ChildRestart.Transient }));

        await Wait.For(supervisor.SubscribeAsync(new Counter(), new() { MaxDemand = 1, MinDemand = 0 }));
        await Wait.Until(() => Volatile.Read(ref attempts) >= 3, "the cancelled child is restarted and the next event starts");

        Assert.Single(_diagnostics, d => d.Kind == StageDiagnosticKind.ChildFailed);
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_TooManyRestartsStopsTheSupervisor()
    {
        var clock = new ManualTimeProvider();
        int attempts = 0;
        var counter = new Counter();
        var supervisor = Watch(new ConsumerSupervisor<int>(
            (_, _) => Task.FromException(new InvalidOperationException($"attempt {Interlocked.Increment(ref attempts)}")),
            new() { Restart = ChildRestart.Transient, MaxRestarts = 3, MaxSeconds = 5, TimeProvider = clock }));
        var subscription = await Wait.For(supervisor.SubscribeAsync(counter, new() { MaxDemand = 1, MinDemand = 0 }));

        var reason = await Wait.For(supervisor.Completion);

        Assert.Equal("reached_max_restart_intensity", reason.Name);
        Assert.False(reason.IsNormal);
        Assert.Equal("attempt 4", reason.Exception?.Message);
        Assert.Equal(4, Volatile.Read(ref attempts));
        await Wait.For(subscription.Ended);
        Assert.True(counter.IsRunning);
    }

    [Fact]
    public async Task ConsumerSupervisor_RestartsSpreadWiderThanTheWindow_DoNotStopIt()
    {
        // Each attempt moves the clock 2 s on, so any 5 s hold at most 3 restarts: 10 failures are allowed.
        var clock = new ManualTimeProvider();
        int attempts = 0;
        var later = new ConcurrentQueue<int>();
        var supervisor = Watch(new ConsumerSupervisor<int>(
            (item, _) =>
            {
                if (item > 0)
                {
                    later.Enqueue(item);
                    return Task.CompletedTask;
                }

                clock.Advance(TimeSpan.FromSeconds(2));
                return Interlocked.Increment(ref attempts) <= 10 ? Task.FromException(new InvalidOperationException("not yet")) : Task.CompletedTask;
            },
            new() { Restart = ChildRestart.Transient, MaxRestarts = 3, MaxSeconds = 5, TimeProvider = clock }));

        await Wait.For(supervisor.SubscribeAsync(new Counter(), new() { MaxDemand = 1, MinDemand = 0 }));
        await Wait.Until(() => !later.IsEmpty, "the child finally succeeds and the next event starts");

        Assert.Equal(11, Volatile.Read(ref attempts));
        Assert.True(supervisor.IsRunning);
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_RestartThatFailsToStart_IsRetriedAsRestarting_AndCountsTowardTheLimit()
    {
        int attempts = 0;
        var supervisor = Watch(new ConsumerSupervisor<int>(
            (_, _) => Interlocked.Increment(ref attempts) == 1
                ? Task.FromException(new InvalidOperationException("child failed"))
                : throw new InvalidOperationException($"restart {Volatile.Read(ref attempts)} failed"),
            new() { Restart = ChildRestart.Transient, MaxRestarts = 3, TimeProvider = new ManualTimeProvider() }));
        await Wait.For(supervisor.SubscribeAsync(new Counter(), new() { MaxDemand = 1, MinDemand = 0 }));

        var reason = await Wait.For(supervisor.Completion);

        Assert.Equal("reached_max_restart_intensity", reason.Name);
        Assert.Equal("restart 4 failed", reason.Exception?.Message);
        Assert.Equal(4, Volatile.Read(ref attempts));
        Assert.Equal(3, _diagnostics.Count(d => d.Kind == StageDiagnosticKind.ChildStartFailed));
    }

    [Fact]
    public void ConsumerSupervisor_PermanentChildren_AreRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new ConsumerSupervisor<int>((_, _) => Task.CompletedTask, new() { Restart = ChildRestart.Permanent }));

        Assert.Contains("Restart Permanent is not supported by a consumer supervisor", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, 5, "MaxRestarts must be at least 0 (got -1)")]
    [InlineData(3, -1, "MaxSeconds must be at least 0 (got -1)")]
    public void ConsumerSupervisor_BadRestartLimits_AreRejectedNamingTheOption(int maxRestarts, int maxSeconds, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new ConsumerSupervisor<int>((_, _) => Task.CompletedTask, new() { MaxRestarts = maxRestarts, MaxSeconds = maxSeconds }));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsumerSupervisor_ManualDemand_IsRejected_AndTheSupervisorKeepsRunning()
    {
        var supervisor = new ConsumerSupervisor<int>((_, _) => Task.CompletedTask);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => supervisor.SubscribeAsync(new Counter(), new() { Demand = DemandMode.Manual }));

        Assert.Contains("Demand must be Automatic", error.Message, StringComparison.Ordinal);
        Assert.True(supervisor.IsRunning);
    }

    [Fact]
    public async Task ConsumerSupervisor_Stop_CancelsEveryChild_AndCompletesOnceTheyHaveEnded()
    {
        var children = new GatedChildren();
        var counter = new Counter();
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start));
        var subscription = await Wait.For(supervisor.SubscribeAsync(counter, new() { MaxDemand = 3 }));
        await Wait.Until(() => supervisor.ChildCount == 3, "three children run");

        supervisor.Stop(StageExitReason.Shutdown);

        Assert.Same(StageExitReason.Shutdown, await Wait.For(supervisor.Completion));
        Assert.Equal(3, children.Attempts.Length); // the three running children, each cancelled by the shutdown
        Assert.All(children.Attempts, attempt => Assert.True(attempt.IsCanceled));
        Assert.DoesNotContain(_diagnostics, d => d.Kind == StageDiagnosticKind.ChildFailed);
        Assert.Same(StageExitReason.Shutdown, await Wait.For(subscription.Ended));
        Assert.True(counter.IsRunning);
    }

    [Fact]
    public async Task ConsumerSupervisor_Stop_DoesNotWaitBeyondTheShutdownTimeout_ForAChildIgnoringItsToken()
    {
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var supervisor = new ConsumerSupervisor<int>((_, _) => never.Task, new() { ShutdownTimeout = TimeSpan.FromMilliseconds(50) });
        await Wait.For(supervisor.SubscribeAsync(new Counter(), new() { MaxDemand = 1 }));
        await Wait.Until(() => supervisor.ChildCount == 1, "the child runs");

        supervisor.Stop();

        Assert.Same(StageExitReason.Normal, await Wait.For(supervisor.Completion));
        Assert.False(never.Task.IsCompleted);
    }

    [Fact]
    public async Task ConsumerSupervisor_SubscriptionCancelled_ItsChildrenRunOn_AndEndingThemAsksForNothing()
    {
        var children = new GatedChildren();
        var counter = new Counter();
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start));
        var subscription = await Wait.For(supervisor.SubscribeAsync(counter, new() { MaxDemand = 4, MinDemand = 0, Cancel = CancelMode.Temporary }));
        await Wait.Until(() => supervisor.ChildCount == 4, "four children run");

        subscription.Cancel();
        await Wait.For(subscription.Ended);
        Assert.Equal(4, supervisor.ChildCount);
        for (int item = 0; item < 4; item++)
        {
            children.Complete(item);
        }

        await Wait.Until(() => supervisor.ChildCount == 0, "the children end");
        await Wait.Flush(supervisor, counter);
        Assert.Equal([4L], counter.Demands);
        Assert.True(supervisor.IsRunning);
        supervisor.Stop();
    }

    [Fact]
    public async Task ConsumerSupervisor_TwoProducers_EachSubscriptionCapsItsOwnChildren()
    {
        var children = new GatedChildren();
        var low = new Counter(start: 0);
        var high = new Counter(start: 1000);
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start));

        await Wait.For(supervisor.SubscribeAsync(low, new() { MaxDemand = 2 }));
        await Wait.For(supervisor.SubscribeAsync(high, new() { MaxDemand = 3 }));
        await Wait.Until(() => supervisor.ChildCount == 5, "five children run");
        await Wait.Flush(supervisor, low, high, supervisor);

        Assert.Equal([0, 1, 1000, 1001, 1002], children.Started.Order());
        Assert.Equal([2L], low.Demands);
        Assert.Equal([3L], high.Demands);
        supervisor.Stop();
    }

    /// <summary>A handler's per-key lanes (Hub.Server's HandlerStage with OrderByKey): a partition dispatcher, and the
    /// supervisor subscribed once per partition with maxDemand 1.</summary>
    [Fact]
    public async Task ConsumerSupervisor_OncePerPartitionWithMaxDemandOne_RunsOneChildPerPartitionAtATime_InOrder_AndPartitionsAtOnce()
    {
        var children = new GatedChildren();
        var producer = StageFactory.CreateProducer<int>(static _ => ReadOnlyMemory<int>.Empty, new Hub.Stages.Dispatchers.PartitionDispatcher<int>(2, static i => i % 2),
            new ProducerOptions { BufferSize = ProducerOptions.Unbounded });
        var supervisor = Watch(new ConsumerSupervisor<int>(children.Start));
        await Wait.For(supervisor.SubscribeAsync(producer, new() { Partition = 0, MaxDemand = 1, MinDemand = 0 }));
        await Wait.For(supervisor.SubscribeAsync(producer, new() { Partition = 1, MaxDemand = 1, MinDemand = 0 }));

        await Wait.For(producer.EmitAsync(Seq.Range(0, 7)));
        await Wait.Until(() => supervisor.ChildCount == 2, "one child per partition runs");
        await Wait.Flush(producer, supervisor, producer, supervisor);
        Assert.Equal([0, 1], children.Started.Order());

        // Partition 0 goes on, one child at a time, in order, while partition 1's first child still runs.
        foreach (var item in new[] { 0, 2, 4 })
        {
            children.Complete(item);
            await Wait.Until(() => children.Started.Contains(item + 2), $"{item + 2} starts after {item}");
            await Wait.Flush(producer, supervisor, producer, supervisor);
            Assert.Equal(2, supervisor.ChildCount);
        }

        Assert.Equal([0, 2, 4, 6], children.Started.Where(static i => i % 2 == 0));
        Assert.Equal([1], children.Started.Where(static i => i % 2 == 1));

        children.Complete(1);
        await Wait.Until(() => children.Started.Contains(3), "3 starts after 1");
        Assert.Equal([1, 3], children.Started.Where(static i => i % 2 == 1));
        Assert.Empty(_diagnostics);
        supervisor.Stop();
        producer.Stop();
    }

    private ConsumerSupervisor<int> Watch(ConsumerSupervisor<int> supervisor)
    {
        supervisor.Diagnostic += _diagnostics.Enqueue;
        return supervisor;
    }

    /// <summary>A child template whose children run until the test completes or fails them (or the supervisor stops).</summary>
    private sealed class GatedChildren(Func<int, bool>? decline = null, Func<int, bool>? failToStart = null)
    {
        private readonly ConcurrentQueue<int> _started = new();
        private readonly ConcurrentDictionary<int, TaskCompletionSource> _latest = new();
        private readonly ConcurrentQueue<Task> _attempts = new();

        /// <summary>The events of the children started so far, restarts included, in order.</summary>
        public int[] Started => _started.ToArray();

        public Task[] Attempts => _attempts.ToArray();

        public Task? Start(int item, CancellationToken stopping)
        {
            if (decline?.Invoke(item) == true)
            {
                return null;
            }

            if (failToStart?.Invoke(item) == true)
            {
                throw new InvalidOperationException($"cannot start {item}");
            }

            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            stopping.Register(() => gate.TrySetCanceled(stopping));
            _latest[item] = gate;
            _attempts.Enqueue(gate.Task);
            _started.Enqueue(item);
            return gate.Task;
        }

        public void Complete(int item) => _latest[item].TrySetResult();

        public void Fail(int item) => _latest[item].TrySetException(new InvalidOperationException($"child {item} failed"));
    }
}
