using Hub.Log;

namespace Hub.Server.Tests.Log;

public sealed class GroupCommitQueueTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static PendingAppend Append(string topic) =>
        new([new EventDraft(topic, null, null, null, DateTimeOffset.UnixEpoch, "{\"topic\":\"x\"}"u8.ToArray())], null);

    [Fact]
    public async Task RunOnOwnThread_CommitsOnAThreadOutsideThePool_EveryAppend_IncludingThoseEnqueuedWhileItSleeps()
    {
        var queue = new GroupCommitQueue(ownThread: true);
        var committed = new List<string>();
        var onPoolThread = new List<bool>();
        var loop = queue.RunOnOwnThread(
            maxGroupEvents: 100,
            new WriteHealth(TimeSpan.FromSeconds(1)),
            (group, _) =>
            {
                onPoolThread.Add(Thread.CurrentThread.IsThreadPoolThread);
                foreach (var append in group)
                {
                    committed.Add(append.Events[0].Topic);
                    append.Done.TrySetResult([]);
                }

                return ValueTask.CompletedTask;
            },
            () => ValueTask.CompletedTask,
            () => ValueTask.CompletedTask,
            (why, ex) => throw new InvalidOperationException(why, ex));

        // Each append is answered before the next is enqueued, so the writer has gone back to sleep in between.
        foreach (var topic in new[] { "a", "b", "c" })
        {
            var append = Append(topic);
            Assert.True(queue.TryEnqueue(append));
            await append.Done.Task.WaitAsync(Patience);
        }

        queue.Complete();
        await loop.WaitAsync(Patience);
        Assert.Equal(["a", "b", "c"], committed);
        Assert.Equal([false, false, false], onPoolThread);
    }

    [Fact]
    public async Task RunOnOwnThread_MaintenanceAskedWhileItSleeps_Runs_AndCompleteEndsTheLoop()
    {
        var queue = new GroupCommitQueue(ownThread: true);
        var maintained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loop = queue.RunOnOwnThread(
            maxGroupEvents: 100,
            new WriteHealth(TimeSpan.FromSeconds(1)),
            (_, _) => ValueTask.CompletedTask,
            () => ValueTask.CompletedTask,
            () =>
            {
                maintained.TrySetResult();
                return ValueTask.CompletedTask;
            },
            (why, ex) => throw new InvalidOperationException(why, ex));

        Assert.True(queue.RequestMaintenance());
        await maintained.Task.WaitAsync(Patience);
        Assert.False(loop.IsCompleted);
        queue.Complete();
        await loop.WaitAsync(Patience);
        Assert.False(queue.TryEnqueue(Append("late")));
    }

    [Fact]
    public void RunOnOwnThread_OnAQueueMadeForATask_IsRefused()
    {
        var queue = new GroupCommitQueue();
        Assert.Throws<InvalidOperationException>(void () => _ = queue.RunOnOwnThread(
            1, new WriteHealth(TimeSpan.FromSeconds(1)), (_, _) => ValueTask.CompletedTask, () => ValueTask.CompletedTask, () => ValueTask.CompletedTask, (_, _) => { }));
    }
}
