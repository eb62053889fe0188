using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Hub.Protocol;
using MessagePack;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Client;

/// <summary>
/// A client of one hub: one SignalR connection carrying any number of subscriptions, and publishing over the REST API.
/// <code>
/// await using var hub = new HubClient(new Uri("http://localhost:5080/"));
/// await foreach (var e in hub.ReadAsync(new SubscribeRequest("orders.*") { MaxDemand = 100 }, ct))
///     Console.WriteLine($"{e.Sequence} {e.Topic} {e.Data}");
/// </code>
/// Subscriptions choose their ids, so nothing the hub sends for them is missed; they are demand-driven (reading is the
/// demand), and they survive connections: the client reconnects with backoff until disposed and resumes each one after
/// the last event taken, so a network drop or a restart of the hub loses nothing and repeats nothing.
/// </summary>
public sealed partial class HubClient : IAsyncDisposable
{
    private readonly HubConnection _connection;
    private readonly HubPublisher _publisher;
    private readonly Backoff _backoff;
    private readonly ConcurrentDictionary<string, Routing> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<HubSubscription, byte> _live = new();
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly CancellationTokenSource _disposing = new();
    private int _generation;
    private long _nextId;
    private volatile bool _running;
    private int _disposed;

    /// <summary>A client of the hub at <paramref name="address"/> (its base, e.g. <c>http://localhost:5080/</c>: the hub
    /// is at <see cref="HubClientOptions.HubPath"/> under it, the REST API at <c>api/</c>). Nothing connects until the
    /// first subscription or <see cref="StartAsync"/>.</summary>
    public HubClient(Uri address, HubClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || address.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"address must be an absolute http(s) URI (got '{address}').", nameof(address));
        }

        options ??= new HubClientOptions();
        options.Validate();
        var root = address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
        Logger = options.LoggerFactory?.CreateLogger<HubClient>() ?? NullLogger<HubClient>.Instance;
        _backoff = new Backoff(options.ReconnectInitialDelay, options.ReconnectMaxDelay);
        var headers = new Dictionary<string, string>(options.Headers, StringComparer.OrdinalIgnoreCase);
        _publisher = new HubPublisher(root, options.HttpClient, options.AccessTokenProvider, headers);

        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri(root, options.HubPath.TrimStart('/')), http =>
            {
                http.AccessTokenProvider = options.AccessTokenProvider;
                foreach (var (name, value) in headers)
                {
                    http.Headers[name] = value;
                }

                options.ConfigureConnection?.Invoke(http);
            })
            .WithAutomaticReconnect(_backoff);
        if (options.LoggerFactory is { } loggerFactory)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        // Both protocols carry the JSON shapes (MessagePack through the same mapping as the hub's).
        if (options.Protocol == HubProtocol.MessagePack)
        {
            builder.AddMessagePackProtocol(o => o.SerializerOptions = MessagePackSerializerOptions.Standard
                .WithResolver(new JsonShapedResolver(HubJson.Options))
                .WithSecurity(MessagePackSecurity.UntrustedData));
        }
        else
        {
            builder.AddJsonProtocol(o => o.PayloadSerializerOptions = HubJson.Options);
        }

        _connection = builder.Build();
        // Handlers only queue: they run on SignalR's receive loop, in the order the hub sent.
        _connection.On<string, HubEvent[]>("events", (id, batch) =>
        {
            if (_routes.TryGetValue(id, out var route))
            {
                route.Subscription.OnEvents(route.Establishment, batch);
            }
        });
        _connection.On<string, HubGap>("gap", (id, gap) =>
        {
            if (_routes.TryGetValue(id, out var route))
            {
                route.Subscription.OnGap(route.Establishment, gap);
            }
        });
        _connection.On<string, HubEnded>("ended", (id, ended) =>
        {
            if (_routes.TryRemove(id, out var route))
            {
                route.Subscription.OnEnded(route.Establishment, ended);
            }
        });
        _connection.Reconnecting += OnReconnecting;
        _connection.Reconnected += OnReconnected;
        _connection.Closed += OnClosed;
    }

    /// <summary>The connection's state.</summary>
    public HubConnectionState State => _connection.State;

    /// <summary>The live subscriptions (also those waiting for a connection to resume).</summary>
    public IReadOnlyCollection<HubSubscription> Subscriptions => [.. _live.Keys];

    internal ILogger Logger { get; }

    /// <summary>Counts the connections made; a subscription's <c>Subscribe</c> belongs to one.</summary>
    internal int Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// Connects. Throws if this first attempt fails (the hub is down, the address is wrong): call it again to retry. Once
    /// it has succeeded, every drop is reconnected, with backoff, until the client is disposed. Subscribing starts the
    /// client if needed.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _startLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_running)
            {
                return;
            }

            await _connection.StartAsync(cancellationToken).ConfigureAwait(false);
            _running = true;
        }
        finally
        {
            _startLock.Release();
        }

        OnConnected();
    }

    /// <summary>
    /// Subscribes, and answers once the hub has accepted (a refusal throws <see cref="HubException"/> whose message names
    /// the field). Read it with <see cref="HubSubscription.ReadAsync"/> or <see cref="HubSubscription.ReadMessagesAsync"/>;
    /// with <see cref="DemandMode.Manual"/>, grant credits with <see cref="HubSubscription.Ask"/>. Dispose it to end it.
    /// </summary>
    public async Task<HubSubscription> OpenAsync(SubscribeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var subscription = new HubSubscription(this, request);
        _live[subscription] = 0;
        if (_connection.State == HubConnectionState.Connected)
        {
            _ = subscription.EstablishAsync(Generation);
        }

        // Otherwise the next connection subscribes it, as it does every live subscription.
        try
        {
            await subscription.Subscribed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return subscription;
    }

    /// <summary>
    /// The events of a new subscription, in order; taking them is the demand (a slow loop slows only this stream, and
    /// never more than the credits granted waits in the client). Gaps and resets are skipped: use
    /// <see cref="OpenAsync"/> and <see cref="HubSubscription.ReadMessagesAsync"/> to see them. Ended by the hub, it throws
    /// <see cref="HubSubscriptionEndedException"/>; leaving the loop unsubscribes.
    /// </summary>
    public async IAsyncEnumerable<HubEvent> ReadAsync(SubscribeRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var subscription = await OpenAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            await foreach (var e in subscription.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }
        }
        finally
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Subscribes and runs <paramref name="handler"/> once per event, awaited, one at a time, in order; the next event is
    /// asked for as handlers complete. <paramref name="onGap"/>, <paramref name="onReset"/> and <paramref name="onEnded"/>
    /// run in order with the events. A handler that throws is logged and the stream goes on. Dispose the answer to end it;
    /// its <see cref="HubSubscription.Completion"/> completes when the handler loop has stopped.
    /// </summary>
    public async Task<HubSubscription> SubscribeAsync(
        SubscribeRequest request,
        Func<HubEvent, CancellationToken, ValueTask> handler,
        Func<HubGap, ValueTask>? onGap = null,
        Func<HubEnded, ValueTask>? onEnded = null,
        Func<HubReset, ValueTask>? onReset = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = await OpenAsync(request, cancellationToken).ConfigureAwait(false);
        subscription.Completion = Task.Run(() => RunHandlersAsync(subscription, handler, onGap, onEnded, onReset), CancellationToken.None);
        return subscription;
    }

    /// <summary>Publishes one event over the REST API; answers where it went (a duplicate <c>(topic, id)</c> answers its
    /// first sequence). A refusal throws <see cref="HubPublishException"/> with the problem's detail, naming the field.</summary>
    public async Task<PublishedEvent> PublishAsync(NewEvent newEvent, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(newEvent);
        var answer = await _publisher.PublishAsync(newEvent, idempotencyKey, cancellationToken).ConfigureAwait(false);
        return answer.Single();
    }

    /// <summary>Publishes a batch, all or nothing; answers one entry per event, in order. With
    /// <paramref name="idempotencyKey"/>, the same key again answers the first answer and appends nothing.</summary>
    public Task<IReadOnlyList<PublishedEvent>> PublishAsync(IEnumerable<NewEvent> batch, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return _publisher.PublishAsync(batch.ToArray(), idempotencyKey, cancellationToken);
    }

    /// <summary>Ends every subscription (no <see cref="HubEnded"/>) and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _running = false;
        await _disposing.CancelAsync().ConfigureAwait(false);
        foreach (var subscription in _live.Keys)
        {
            subscription.Close();
        }

        _live.Clear();
        _routes.Clear();
        await _connection.DisposeAsync().ConfigureAwait(false);
        _publisher.Dispose();
    }

    internal string NextWireId() => "s" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal void Route(string wireId, HubSubscription subscription, int establishment) => _routes[wireId] = new Routing(subscription, establishment);

    internal void Unroute(string wireId) => _routes.TryRemove(wireId, out _);

    /// <summary>The subscription is over: not resumed again, and its id no longer routed.</summary>
    internal void Forget(HubSubscription subscription, string? wireId)
    {
        _live.TryRemove(subscription, out _);
        if (wireId is not null)
        {
            Unroute(wireId);
        }
    }

    internal Task<SubscribeAnswer> InvokeSubscribeAsync(WireSubscribeRequest request) =>
        _connection.InvokeAsync<SubscribeAnswer>("Subscribe", request, _disposing.Token);

    /// <summary>Sends <c>Ask</c> without waiting; a failure other than the subscription being gone is logged.</summary>
    internal void SendAsk(string wireId, long n) => _ = AskAsync(wireId, n);

    private async Task AskAsync(string wireId, long n)
    {
        try
        {
            await _connection.InvokeAsync("Ask", wireId, n, _disposing.Token).ConfigureAwait(false);
        }
        catch (HubException ex)
        {
            // Gone already (ended by the hub, whose `ended` is on its way, or unsubscribed) is no failure.
            var message = HubErrors.Clean(ex.Message);
            if (!HubErrors.IsNotLive(message))
            {
                Log.AskRefused(Logger, wireId, n, message);
            }
        }
        catch (Exception ex)
        {
            // The connection dropped (the resume asks afresh), or the client is disposed.
            Log.AskNotSent(Logger, wireId, n, ex.GetType().Name);
        }
    }

    internal async Task UnsubscribeAsync(string wireId)
    {
        if (_connection.State != HubConnectionState.Connected)
        {
            return; // the hub forgets a connection's subscriptions with it
        }

        try
        {
            await _connection.InvokeAsync("Unsubscribe", wireId, _disposing.Token).ConfigureAwait(false);
        }
        catch (HubException ex) when (HubErrors.IsNotLive(HubErrors.Clean(ex.Message)))
        {
            // Ended by the hub meanwhile.
        }
        catch (Exception ex) when (ex is not HubException)
        {
            Log.UnsubscribeNotSent(Logger, wireId, ex.GetType().Name);
        }
    }

    private async Task RunHandlersAsync(HubSubscription subscription, Func<HubEvent, CancellationToken, ValueTask> handler,
        Func<HubGap, ValueTask>? onGap, Func<HubEnded, ValueTask>? onEnded, Func<HubReset, ValueTask>? onReset)
    {
        var stopping = subscription.Stopping;
        try
        {
            await foreach (var message in subscription.ReadMessagesAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    switch (message)
                    {
                        case HubEvent e:
                            await handler(e, stopping).ConfigureAwait(false);
                            break;
                        case HubGap gap when onGap is not null:
                            await onGap(gap).ConfigureAwait(false);
                            break;
                        case HubReset reset when onReset is not null:
                            await onReset(reset).ConfigureAwait(false);
                            break;
                        case HubEnded ended when onEnded is not null:
                            await onEnded(ended).ConfigureAwait(false);
                            break;
                    }
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Log.HandlerFailed(Logger, ex, message.GetType().Name, (message as HubEvent)?.Sequence);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private Task OnReconnecting(Exception? error)
    {
        Log.Reconnecting(Logger, error?.GetType().Name);
        OnLost();
        return Task.CompletedTask;
    }

    private Task OnReconnected(string? connectionId)
    {
        Log.Reconnected(Logger, connectionId);
        OnConnected();
        return Task.CompletedTask;
    }

    /// <summary>Closed for good (not by a drop SignalR reconnects by itself): start again, with backoff, until disposed.</summary>
    private Task OnClosed(Exception? error)
    {
        OnLost();
        if (!_running)
        {
            return Task.CompletedTask;
        }

        Log.Closed(Logger, error?.GetType().Name);
        _ = RestartAsync();
        return Task.CompletedTask;
    }

    private async Task RestartAsync()
    {
        for (long attempt = 0; _running; attempt++)
        {
            try
            {
                await Task.Delay(_backoff.Delay(attempt), _disposing.Token).ConfigureAwait(false);
                await _connection.StartAsync(_disposing.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (_running)
            {
                Log.RestartFailed(Logger, attempt + 1, ex.GetType().Name);
                continue;
            }

            OnConnected();
            return;
        }
    }

    /// <summary>The connection is gone: the hub forgets its subscriptions, so nobody asks on them any more.</summary>
    private void OnLost()
    {
        _routes.Clear();
        foreach (var subscription in _live.Keys)
        {
            subscription.Detach();
        }
    }

    /// <summary>A connection was made (first start, reconnect or restart): the hub knows none of our subscriptions.</summary>
    private void OnConnected()
    {
        if (!_running)
        {
            return;
        }

        var generation = Interlocked.Increment(ref _generation);
        _routes.Clear();
        foreach (var subscription in _live.Keys)
        {
            subscription.Detach();
            _ = subscription.EstablishAsync(generation);
        }
    }

    private readonly record struct Routing(HubSubscription Subscription, int Establishment);
}
