extern alias client;

using client::Hub.Client;
using DotNetClient = client::Hub.Client.HubClient;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A subscription of the .NET client (<c>src/Hub.Client</c>), read in the background as a user's loop reads it (each
/// message taken as it comes, which is the demand: the client asks again and, in a group, acknowledges), and recorded.
/// The tests that subscribe as a user does use it; those that speak the protocol themselves (exact asks, a socket that
/// stops reading, frames the client would never send, a ledger of every batch) use <see cref="HubClient"/>.
/// </summary>
public sealed class ClientSubscription : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<HubMessage> _messages = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _reading = Task.CompletedTask;

    private ClientSubscription(HubSubscription subscription) => Subscription = subscription;

    /// <summary>The client's subscription.</summary>
    public HubSubscription Subscription { get; }

    /// <summary>Everything read, in order: events, gaps, resets and the end.</summary>
    public IReadOnlyList<HubMessage> Messages { get { lock (_gate) { return [.. _messages]; } } }

    /// <summary>The events read, in order.</summary>
    public IReadOnlyList<HubEvent> Events => [.. Messages.OfType<HubEvent>()];

    /// <summary>The sequences of the events read, in order.</summary>
    public IReadOnlyList<long> Sequences => [.. Events.Select(static e => e.Sequence)];

    /// <summary>The gaps read, in order.</summary>
    public IReadOnlyList<HubGap> Gaps => [.. Messages.OfType<HubGap>()];

    /// <summary>How the hub ended the subscription, once it did.</summary>
    public HubEnded? Ended => Messages.OfType<HubEnded>().SingleOrDefault();

    /// <summary>How many events were read.</summary>
    public int Count => Events.Count;

    /// <summary>Subscribes with <paramref name="client"/> and starts reading.</summary>
    public static async Task<ClientSubscription> OpenAsync(DotNetClient client, SubscribeRequest request)
    {
        var opened = new ClientSubscription(await client.OpenAsync(request));
        opened._reading = Task.Run(opened.ReadAsync);
        return opened;
    }

    /// <summary>Waits until <paramref name="count"/> events were read (fails at once if reading failed).</summary>
    public Task WaitForCountAsync(int count, TimeSpan? timeout = null) => WaitUntilAsync(() => Count >= count, $"{count} events read", timeout);

    /// <summary>Waits until the hub ended the subscription and the reader came to its end.</summary>
    public Task WaitForEndedAsync(TimeSpan? timeout = null) => WaitUntilAsync(() => Ended is not null, "ended", timeout);

    /// <summary>Asserts that the hub kept to the protocol for this subscription: it sent no event beyond the credits and
    /// none at or below one it had sent (the client absorbs both, so a test would not see them otherwise).</summary>
    public void AssertTheHubKeptToTheProtocol()
    {
        Assert.Equal(0, Subscription.Overdrafts);
        Assert.Equal(0, Subscription.Duplicates);
    }

    /// <summary>This subscription as <c>GET /api/subscriptions</c> lists it (by the id the client chose on its
    /// connection; the test's other clients must not have a live subscription with that id).</summary>
    public async Task<System.Text.Json.JsonElement> FindOnHubAsync(TestHub hub)
    {
        var id = Subscription.Id ?? throw new InvalidOperationException("the subscription is not live on the hub");
        return Assert.Single(await hub.GetSubscriptionsAsync(), s => s.GetProperty("subscriptionId").GetString() == id);
    }

    public async ValueTask DisposeAsync()
    {
        await Subscription.DisposeAsync();
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
    }

    private Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout) => Eventually.TrueAsync(() =>
    {
        if (_reading.IsFaulted)
        {
            _reading.GetAwaiter().GetResult(); // the reader's exception, not a timeout
        }

        return condition();
    }, what, timeout);

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var message in Subscription.ReadMessagesAsync(_stop.Token))
            {
                lock (_gate)
                {
                    _messages.Add(message);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }
}

/// <summary>.NET clients (<c>Hub.Client</c>) of a <see cref="TestHub"/>.</summary>
public static class TestHubClients
{
    /// <summary>A .NET client of <paramref name="hub"/>, over <paramref name="protocol"/>; it connects at its first
    /// subscription.</summary>
    public static DotNetClient NewClient(this TestHub hub, HubProtocol protocol = HubProtocol.Json) =>
        new(hub.Address, new HubClientOptions { Protocol = protocol });
}
