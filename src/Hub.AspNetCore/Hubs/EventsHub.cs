using System.Text.Json;
using Hub.Log;
using Hub.Server.Auth;
using Hub.Server.Limits;
using Hub.Server.Subscriptions;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.SignalR;
using SignalRHub = Microsoft.AspNetCore.SignalR.Hub;

namespace Hub.Server.Hubs;

/// <summary>
/// The SignalR hub at <c>/hubs/events</c>: <c>Subscribe</c>, <c>Ask</c>, <c>Unsubscribe</c>. Arguments arrive as raw
/// JSON and are validated here, so a bad one fails the invocation with a <see cref="HubException"/> that names the field
/// and creates or changes nothing.
/// </summary>
internal sealed class EventsHub(SubscriptionRegistry registry, DeferredStarts starts, TopicAccess access, ConnectionLimiter connections, IOptions<LimitsOptions> limits, IEventLog log) : SignalRHub
{
    /// <summary>The path the hub is mapped at.</summary>
    public const string Path = "/hubs/events";

    private const string SubjectItem = "hub:subject";

    /// <summary>Starts a subscription; its stream starts after the returned position.</summary>
    public async Task<SubscribeResult> Subscribe(JsonElement request)
    {
        SubscribeRequest parsed;
        ISubscription subscription;
        try
        {
            parsed = SubscribeRequest.Parse(request, limits.Value.MaxAsk, limits.Value.MaxSubscribeTopics, limits.Value.MaxSubscribeTypes);
            var grants = access.For(Context.User);
            for (var i = 0; i < parsed.Patterns.Count; i++)
            {
                if (!grants.MaySubscribe(parsed.Patterns[i]))
                {
                    throw new HubException($"topics[{i}]: {AuthChecks.NotCoveredMessage(parsed.Topics[i])}");
                }
            }

            if (parsed.After is { } after && after > log.Head)
            {
                // On several nodes, a client resuming here after a sequence another node delivered may be ahead of this
                // node's memory of the log: it catches up from the store first, so the position is not taken for one from
                // a reset log (which the check in Create refuses).
                try
                {
                    await log.ReachAsync(after, Context.ConnectionAborted);
                }
                catch (LogUnavailableException ex)
                {
                    throw new HubException($"log: {ex.Message}; subscribe again later");
                }
            }

            subscription = registry.Create(Context.ConnectionId, parsed, grants.MaySubscribe);
        }
        catch (SubscribeRequestException ex)
        {
            throw new HubException(ex.Message);
        }

        // The pump starts once this answer is written, so the id reaches the client before any event for it.
        starts.Add(subscription);
        return new SubscribeResult(subscription.WireId, subscription.Cursor, registry.Epoch);
    }

    /// <summary>Grants <paramref name="n"/> (≥ 1) more credits to one of this connection's subscriptions.</summary>
    public void Ask(JsonElement subscriptionId, JsonElement n)
    {
        var subscription = Own(subscriptionId);
        if (n.ValueKind != JsonValueKind.Number || !n.TryGetInt64(out var credits) || credits < 1)
        {
            throw new HubException($"n: must be an integer ≥ 1 (got {Shorten(n)})");
        }

        if (credits > limits.Value.MaxAsk)
        {
            throw new HubException($"n: may be at most {limits.Value.MaxAsk} (Hub:Limits:MaxAsk; got {credits})");
        }

        // Credits add up across grants, so the bound is on what is held, not only on one grant: otherwise repeated asks
        // would let one group member take and hold the whole log. (A connection's invocations run one at a time, so
        // nothing else adds credits between this check and the grant; the pump only takes them away.)
        var held = subscription.Credits;
        if (held + credits > limits.Value.MaxAsk)
        {
            throw new HubException($"n: would raise the credits held to {held + credits}, more than {limits.Value.MaxAsk} (Hub:Limits:MaxAsk; {held} held, got {credits})");
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
        if (access.Enforced && Context.User?.Identity?.Name is { Length: > 0 } subject)
        {
            if (!connections.TryAcquire(subject))
            {
                throw new HubException($"connections: '{Topics.TopicName.Shorten(subject)}' already holds {connections.Limit} connections, the most allowed (Hub:Limits:MaxConnectionsPerSubject)");
            }

            Context.Items[SubjectItem] = subject;
        }

        // SignalR's HTTP connections offer both: a close requested by the server lets the transport send what was
        // written first, and the hub's close message allows the client to reconnect (see SubscriptionRegistry.WatchShutdown).
        var closed = Context.Features.Get<IConnectionLifetimeFeature>();
        var closeRequest = Context.Features.Get<IConnectionLifetimeNotificationFeature>();
        registry.TrackConnection(Context.ConnectionId, closed is not null && closeRequest is not null
            ? new TrackedConnection(Context.Abort, closeRequest.RequestClose, closed.ConnectionClosed)
            : new TrackedConnection(Context.Abort));
        return base.OnConnectedAsync();
    }

    /// <inheritdoc />
    public override Task OnDisconnectedAsync(Exception? exception)
    {
        registry.RemoveConnection(Context.ConnectionId);
        if (Context.Items.TryGetValue(SubjectItem, out var subject) && subject is string held)
        {
            connections.Release(held);
        }

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
/// <param name="SubscriptionId">The id to use with <c>Ask</c> and <c>Unsubscribe</c>, and that <c>events</c> carries: the
/// request's <c>id</c> when the client chose one.</param>
/// <param name="Position">The stream starts after this sequence.</param>
/// <param name="Epoch">The log's epoch: the sequences of this stream belong to it; send it back with <c>after</c> on a resume.</param>
public sealed record SubscribeResult(string SubscriptionId, long Position, string Epoch);
