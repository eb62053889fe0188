using Hub.Client.Tests.Infrastructure;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Client.Tests;

/// <summary>Subscriptions outlive connections: after a network drop, or a crash or a stop and a restart of the hub, each resumes
/// after the last event taken; nothing is lost, nothing repeated.</summary>
public sealed class ResumeTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData("SIGKILL")]
    [InlineData("SIGTERM")]
    public async Task HubKilledOrStoppedAndRestarted_MidStream_EveryEventIsReadExactlyOnce_InOrder(string signal)
    {
        await using var hub = await RunningHub.StartAsync();
        var topic = "restart.t";
        await using var client = new HubClient(hub.Address, ClientOptions.Fast());
        using var timeout = new CancellationTokenSource(Deadline);
        var first = await hub.PublishManyAsync(topic, 1000);
        var seen = new List<long>();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? idBefore = null;
        var queuedAtKill = 0;

        var reading = Task.Run(async () =>
        {
            await foreach (var e in client.ReadAsync(new SubscribeRequest(topic) { After = 0, MaxDemand = 50 }, timeout.Token))
            {
                seen.Add(e.Sequence);
                if (seen.Count == 300)
                {
                    // Busy with this event through the restart, with events received and not taken behind it.
                    var subscription = Assert.Single(client.Subscriptions);
                    await Eventually.TrueAsync(() => subscription.Credits == 0, "the window spent");
                    idBefore = subscription.Id;
                    queuedAtKill = subscription.Queued;
                    holding.SetResult();
                    await resume.Task;
                }

                if (seen.Count == 2000)
                {
                    return;
                }
            }
        }, timeout.Token);

        await holding.Task.WaitAsync(timeout.Token);
        await (signal == "SIGTERM" ? hub.StopAndRestartAsync() : hub.KillAndRestartAsync());
        var second = await hub.PublishManyAsync(topic, 1000, from: 1000);
        resume.SetResult();
        await reading.WaitAsync(timeout.Token);

        Assert.Equal([.. first, .. second], seen);
        Assert.True(queuedAtKill > 0, "events were waiting in the client when the hub went");
        await Eventually.TrueAsync(() => client.Subscriptions.Count == 0, "unsubscribed after the loop");
        Assert.NotNull(idBefore);
    }

    [Fact]
    public async Task NetworkDropped_WhileEventsFlow_EveryEventIsReadExactlyOnce_AndTheSubscriptionResumesUnderANewId()
    {
        await using var hub = await RunningHub.StartAsync();
        await using var proxy = new TcpProxy(hub.Address);
        proxy.Start();
        await using var client = new HubClient(proxy.Address, ClientOptions.Fast());
        using var timeout = new CancellationTokenSource(Deadline);
        var topic = "drop.t";
        var seen = new List<long>();
        var ids = new List<string?>();
        await using var subscription = await client.OpenAsync(new SubscribeRequest(topic) { MaxDemand = 20 }, timeout.Token);
        ids.Add(subscription.Id);
        var first = await hub.PublishManyAsync(topic, 200);
        long[] second = [];

        await foreach (var e in subscription.ReadAsync(timeout.Token))
        {
            seen.Add(e.Sequence);
            if (seen.Count == 50)
            {
                // The network goes away mid-stream, with events received and not taken; more are published meanwhile.
                await Eventually.TrueAsync(() => subscription.Queued > 0, "events waiting in the client");
                proxy.Blocked = true;
                proxy.CutAll();
                await Eventually.TrueAsync(() => client.State == Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Reconnecting, "the client to notice");
                second = await hub.PublishManyAsync(topic, 200, from: 200);
                await Eventually.TrueAsync(() => proxy.Refused > 0, "a reconnect attempt refused");
                proxy.Blocked = false;
            }

            if (seen.Count == 400)
            {
                break;
            }
        }

        ids.Add(subscription.Id);
        Assert.Equal([.. first, .. second], seen);
        Assert.Equal(2, ids.Distinct().Count());
        Assert.DoesNotContain(null, ids);
        Assert.Equal(0, subscription.Overdrafts);
    }

    [Fact]
    public async Task ManualDemand_Resumes_WithTheCreditsItWasOwed()
    {
        await using var hub = await RunningHub.StartAsync();
        await using var proxy = new TcpProxy(hub.Address);
        proxy.Start();
        await using var client = new HubClient(proxy.Address, ClientOptions.Fast());
        using var timeout = new CancellationTokenSource(Deadline);
        var topic = "manualdrop.t";
        await using var subscription = await client.OpenAsync(new SubscribeRequest(topic) { Demand = DemandMode.Manual, MaxDemand = 10 }, timeout.Token);
        var published = await hub.PublishManyAsync(topic, 10);
        subscription.Ask(6);
        await Eventually.TrueAsync(() => subscription.Queued == 6, "6 received");
        var before = subscription.Id;

        // Dropped with 6 received and none taken: the resume asks for them again, and no more.
        proxy.CutAll();
        await Eventually.TrueAsync(() => subscription.Id is { } id && id != before, "resumed");
        var seen = new List<long>();
        await using var events = subscription.ReadAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        while (seen.Count < 6 && await events.MoveNextAsync())
        {
            seen.Add(events.Current.Sequence);
        }

        Assert.Equal(published[..6], seen);
        await Eventually.TrueAsync(async () => (await hub.FindSubscriptionAsync(subscription.Id!))?.GetProperty("delivered").GetInt64() == 6, "the new subscription sent 6");
        Assert.Equal(0, (await hub.FindSubscriptionAsync(subscription.Id!))!.Value.GetProperty("credits").GetInt64());
        Assert.Equal(0, subscription.Queued);
    }

    [Fact]
    public async Task HubRestartedOnAFreshLog_TheResetIsSurfaced_WhatWasReceivedIsKept_AndReadingGoesOnFromTheNewLogsStart()
    {
        await using var hub = await RunningHub.StartAsync();
        await using var client = new HubClient(hub.Address, ClientOptions.Fast());
        using var timeout = new CancellationTokenSource(Deadline);
        var old = await hub.PublishManyAsync("reset.t", 10);
        await using var subscription = await client.OpenAsync(new SubscribeRequest("reset.t") { After = 0, MaxDemand = 10 }, timeout.Token);
        var oldEpoch = subscription.Epoch;
        Assert.NotNull(oldEpoch);
        var messages = new List<HubMessage>();
        await using var reader = subscription.ReadMessagesAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        while (messages.Count < 5 && await reader.MoveNextAsync())
        {
            messages.Add(reader.Current);
        }

        // Ten received, five taken, when the hub comes back on an empty file.
        await Eventually.TrueAsync(() => subscription.Queued == 5, "the other five received");
        await hub.KillAndRestartAsync(freshLog: true);
        var fresh = await hub.PublishManyAsync("reset.t", 3);
        // The reader waits until the client has met the new log and subscribed again: the five it had not taken are kept.
        await Eventually.TrueAsync(() => subscription.Epoch is { } epoch && epoch != oldEpoch, "subscribed to the new log");
        while (messages.Count < 14 && await reader.MoveNextAsync())
        {
            messages.Add(reader.Current);
        }

        // The old log's events already received come first (they will not come again), then the reset, then the new log
        // from its start.
        Assert.Equal(old, messages.Take(10).Select(m => Assert.IsType<HubEvent>(m).Sequence));
        var reset = Assert.IsType<HubReset>(messages[10]);
        Assert.Equal(oldEpoch, reset.Epoch);
        Assert.Equal(old[4], reset.After);
        Assert.StartsWith("epoch:", reset.Message, StringComparison.Ordinal);
        Assert.Contains("the log was reset", reset.Message, StringComparison.Ordinal);
        Assert.Equal(fresh, messages.Skip(11).Select(m => Assert.IsType<HubEvent>(m).Sequence));
        Assert.NotNull(subscription.Epoch);
        Assert.NotEqual(oldEpoch, subscription.Epoch);
        Assert.Equal(fresh[^1], subscription.LastSequence);
    }

    [Fact]
    public async Task ARequestCarryingAnotherLogsEpoch_StartsFromTheNewLogsStart_AfterAReset()
    {
        await using var hub = await RunningHub.StartAsync();
        await using var client = new HubClient(hub.Address, ClientOptions.Fast());
        using var timeout = new CancellationTokenSource(Deadline);
        var published = await hub.PublishManyAsync("epoch.t", 4);
        var resets = new List<HubReset>();
        var seen = new List<long>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await client.SubscribeAsync(new SubscribeRequest("epoch.t") { After = 2, Epoch = "not-this-log" },
            (e, _) =>
            {
                seen.Add(e.Sequence);
                if (seen.Count == published.Length)
                {
                    done.SetResult();
                }

                return ValueTask.CompletedTask;
            },
            onReset: reset =>
            {
                resets.Add(reset);
                return ValueTask.CompletedTask;
            },
            cancellationToken: timeout.Token);
        await done.Task.WaitAsync(timeout.Token);
        var reset = Assert.Single(resets);
        Assert.Equal("not-this-log", reset.Epoch);
        Assert.Equal(2, reset.After);
        Assert.Equal(published, seen);
    }
}
