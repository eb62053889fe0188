using System.Text.Json;
using Hub.Server.Subscriptions;
using Microsoft.AspNetCore.SignalR;
using SignalRHub = Microsoft.AspNetCore.SignalR.Hub;

namespace Hub.Server.Hubs;

/// <summary>
/// The SignalR hub at <c>/hubs/events</c>: <c>Subscribe</c>, <c>Ask</c>, <c>Unsubscribe</c>. Arguments arrive as raw
/// JSON and are validated here, so a bad one fails the invocation with a <see cref="HubException"/> that names the field
/// and creates or changes nothing.
/// </summary>
internal sealed class EventsHub(SubscriptionRegistry registry, DeferredStarts starts) : SignalRHub
{
    /// <summary>The path the hub is mapped at.</summary>
    public const string Path = "/hubs/events";

    /// <summary>Starts a subscription; its stream starts after the returned position.</summary>
    public SubscribeResult Subscribe(JsonElement request)
    {
        SubscribeRequest parsed;
        ISubscription subscription;
        try
        {
            parsed = SubscribeRequest.Parse(request);
            subscription = registry.Create(Context.ConnectionId, parsed);
        }
        catch (SubscribeRequestException ex)
        {
            throw new HubException(ex.Message);
        }

        // The pump starts once this answer is written, so the id reaches the client before any event for it.
        starts.Add(subscription);
        return new SubscribeResult(subscription.Id, subscription.Cursor);
    }

    /// <summary>Grants <paramref name="n"/> (≥ 1) more credits to one of this connection's subscriptions.</summary>
    public void Ask(JsonElement subscriptionId, JsonElement n)
    {
        var subscription = Own(subscriptionId);
        if (n.ValueKind != JsonValueKind.Number || !n.TryGetInt64(out var credits) || credits < 1)
        {
            throw new HubException($"n: must be an integer ≥ 1 (got {Shorten(n)})");
        }

        subscription.Ask(credits);
    }

    /// <summary>Ends one of this connection's subscriptions; no <c>ended</c> is sent for it, and once this completes no
    /// more <c>events</c> for it follow.</summary>
    public async Task Unsubscribe(JsonElement subscriptionId)
    {
        var subscription = Own(subscriptionId);
        registry.Remove(subscription.Id, "unsubscribed", notify: false);
        await subscription.Completion.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task OnConnectedAsync()
    {
        registry.TrackConnection(Context.ConnectionId, Context.Abort);
        return base.OnConnectedAsync();
    }

    /// <inheritdoc />
    public override Task OnDisconnectedAsync(Exception? exception)
    {
        registry.RemoveConnection(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }

    private ISubscription Own(JsonElement subscriptionId)
    {
        if (subscriptionId.ValueKind != JsonValueKind.String)
        {
            throw new HubException($"subscriptionId: must be a string (got {Shorten(subscriptionId)})");
        }

        var id = subscriptionId.GetString()!;
        return registry.Find(id, Context.ConnectionId)
            ?? throw new HubException($"subscriptionId: no live subscription '{Topics.TopicName.Shorten(id)}' on this connection");
    }

    private static string Shorten(JsonElement element) =>
        element.ValueKind == JsonValueKind.Undefined ? "nothing" : Topics.TopicName.Shorten(element.GetRawText());
}

/// <summary>What <c>Subscribe</c> answers.</summary>
/// <param name="SubscriptionId">The id to use with <c>Ask</c> and <c>Unsubscribe</c>, and that <c>events</c> carries.</param>
/// <param name="Position">The stream starts after this sequence.</param>
public sealed record SubscribeResult(string SubscriptionId, long Position);
