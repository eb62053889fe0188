using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A small SignalR client speaking the JSON hub protocol over a real <see cref="ClientWebSocket"/> (the .NET SignalR
/// client package is not in the registry). It records every <c>events</c>, <c>gap</c> and <c>ended</c> per subscription,
/// and can stop reading its socket to play a stalled client.
/// </summary>
public sealed class HubClient : IAsyncDisposable
{
    private const byte RecordSeparator = 0x1e;
    private static readonly JsonSerializerOptions Wire = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<string, (TaskCompletionSource<JsonElement> Done, Action<JsonElement>? OnResult)> _pending = new();
    private readonly ConcurrentDictionary<string, SubscriptionLog> _subscriptions = new();
    private readonly ConcurrentDictionary<string, Channel<JsonElement>> _streams = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resumeReading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _closing = new();
    private volatile bool _stalled;
    private int _nextInvocationId;
    private Task _receiving = Task.CompletedTask;
    private readonly CancellationTokenSource _stopPinging = new();
    private Task _pinging = Task.CompletedTask;
    private int _disposed;

    /// <summary>How often the client pings, as SignalR's clients do (their KeepAliveInterval is 15 s): the server closes a
    /// connection it hears nothing from for its ClientTimeoutInterval (30 s), which a test that stalls a reader for
    /// longer than that on a busy machine would otherwise meet.</summary>
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(10);

    /// <summary>Everything the server sent for unknown subscription ids, in order (should stay empty).</summary>
    public ConcurrentQueue<string> Unexpected { get; } = new();

    /// <summary>Completes when the connection closes.</summary>
    public Task Closed => _receiving;

    /// <summary>The error of the server's close message, if it sent one with an error.</summary>
    public string? CloseError { get; private set; }

    /// <summary>The server's close message's <c>allowReconnect</c>: null until one came (false when it left it out).</summary>
    public bool? CloseAllowsReconnect { get; private set; }

    /// <summary>Connects; <paramref name="accessToken"/> goes in the query string as SignalR's clients send it,
    /// <paramref name="headers"/> (e.g. <c>X-Api-Key</c>) on the WebSocket request.</summary>
    public static async Task<HubClient> ConnectAsync(Uri hubBase, string path = "hubs/events", string? accessToken = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var client = new HubClient();
        var builder = new UriBuilder(new Uri(hubBase, path)) { Scheme = hubBase.Scheme == "https" ? "wss" : "ws" };
        if (accessToken is not null)
        {
            builder.Query = "access_token=" + Uri.EscapeDataString(accessToken);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            client._socket.Options.SetRequestHeader(name, value);
        }

        await client._socket.ConnectAsync(builder.Uri, CancellationToken.None);
        client._receiving = Task.Run(client.ReceiveLoopAsync);
        await client.SendRawAsync("{\"protocol\":\"json\",\"version\":1}");
        await client._handshake.Task.WaitAsync(TimeSpan.FromSeconds(10));
        client._pinging = Task.Run(client.PingLoopAsync);
        return client;
    }

    /// <summary>Sends a ping every <see cref="PingInterval"/>, reading or not (a stalled reader's client still sends),
    /// until disposed or the connection fails.</summary>
    private async Task PingLoopAsync()
    {
        using var timer = new PeriodicTimer(PingInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopPinging.Token))
            {
                await SendRawAsync("{\"type\":6}");
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Disposed, or the connection is gone: nothing left to keep alive.
        }
    }

    /// <summary>Stops reading the socket: the server's writes to this client back up, as with a stalled peer.</summary>
    public void StopReading() => _stalled = true;

    /// <summary>Invokes a hub method and returns its result; a failed invocation throws <see cref="HubInvocationException"/>.</summary>
    public Task<JsonElement> InvokeAsync(string target, params object?[] arguments) => InvokeAsync(target, null, arguments);

    /// <summary>Invokes a hub method; <paramref name="onResult"/> runs on the receive loop as the answer is read,
    /// before any later message is handled.</summary>
    public async Task<JsonElement> InvokeAsync(string target, Action<JsonElement>? onResult, params object?[] arguments)
    {
        var id = Interlocked.Increment(ref _nextInvocationId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = (completion, onResult);
        await SendRawAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target, arguments }, Wire));
        return await completion.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits for the completion of an invocation this client sent itself with <see cref="SendFrameAsync"/>
    /// under <paramref name="invocationId"/> (which must not be a number, the ids this client makes).</summary>
    public Task<JsonElement> Pending(string invocationId)
    {
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[invocationId] = (completion, null);
        return completion.Task;
    }

    /// <summary>Starts a server-to-client stream (a <c>StreamInvocation</c>); its items arrive on the returned reader,
    /// which completes when the server completes the stream.</summary>
    public async Task<ChannelReader<JsonElement>> StreamAsync(string target, params object?[] arguments)
    {
        var id = Interlocked.Increment(ref _nextInvocationId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var items = Channel.CreateUnbounded<JsonElement>();
        _streams[id] = items;
        await SendRawAsync(JsonSerializer.Serialize(new { type = 4, invocationId = id, target, arguments }, Wire));
        return items.Reader;
    }

    /// <summary>
    /// Subscribes and starts recording the subscription's messages (which may arrive before the answer is read).
    /// <paramref name="onBatch"/> is in place before the first batch can be recorded: set later, it would miss the
    /// batches of a replay that arrive while the caller is still reading the answer (and their credits with them).
    /// </summary>
    public async Task<SubscriptionLog> SubscribeAsync(object request, Action<SubscriptionLog, int>? onBatch = null)
    {
        SubscriptionLog? log = null;
        SubscriptionLog? previous = null;
        var chosen = (request as SubscribeArgs)?.Id;
        if (chosen is not null)
        {
            // An id chosen by the client: its messages are routed from before the answer is read (and the log that had
            // the id before comes back if the hub refuses it, as it does a duplicate).
            previous = _subscriptions.GetValueOrDefault(chosen);
            log = NewLog(chosen);
        }

        try
        {
            await InvokeAsync("Subscribe", result =>
            {
                var id = result.GetProperty("subscriptionId").GetString()!;
                log ??= NewLog(id);
                log.Position = result.GetProperty("position").GetInt64();
                log.Epoch = result.GetProperty("epoch").GetString();
            }, request);
        }
        catch when (chosen is not null)
        {
            if (previous is null)
            {
                _subscriptions.TryRemove(chosen, out _);
            }
            else
            {
                _subscriptions[chosen] = previous;
            }

            throw;
        }

        return log!;

        SubscriptionLog NewLog(string id)
        {
            var created = new SubscriptionLog(id) { OnBatch = onBatch };
            if (request is IDemandRequest demand)
            {
                created.Grant(demand.InitialCredits);
            }

            _subscriptions[id] = created;
            return created;
        }
    }

    /// <summary>Grants credits, recording them in the ledger before they are sent.</summary>
    public Task AskAsync(SubscriptionLog subscription, long n)
    {
        subscription.Grant(n);
        return InvokeAsync("Ask", subscription.Id, n);
    }

    public Task UnsubscribeAsync(SubscriptionLog subscription) => InvokeAsync("Unsubscribe", subscription.Id);

    private Task SendRawAsync(string json) => SendFrameAsync(Encoding.UTF8.GetBytes(json + "\u001e"));

    /// <summary>Sends <paramref name="bytes"/> as one text frame, as they are (hostile-input tests send broken ones).</summary>
    public async Task SendFrameAsync(byte[] bytes)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, _closing.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var pending = new ArrayBufferWriter<byte>();
        var buffer = new byte[16 * 1024];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                if (_stalled)
                {
                    await _resumeReading.Task.WaitAsync(_closing.Token);
                }

                var result = await _socket.ReceiveAsync(buffer, _closing.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Answered, as SignalR's clients and browsers answer it: the server's transport waits for it.
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, _closing.Token);
                    break;
                }

                pending.Write(buffer.AsSpan(0, result.Count));
                var data = pending.WrittenMemory;
                int separator;
                var consumed = 0;
                while ((separator = data.Span[consumed..].IndexOf(RecordSeparator)) >= 0)
                {
                    Handle(data.Slice(consumed, separator));
                    consumed += separator + 1;
                }

                if (consumed > 0)
                {
                    var rest = data[consumed..].ToArray();
                    pending.Clear();
                    pending.Write(rest);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            foreach (var waiting in _pending.Values)
            {
                waiting.Done.TrySetException(new InvalidOperationException("The connection closed."));
            }
        }
    }

    private void Handle(ReadOnlyMemory<byte> record)
    {
        using var document = JsonDocument.Parse(record);
        var message = document.RootElement;
        if (!message.TryGetProperty("type", out var typeElement))
        {
            // The handshake answer: {} or {"error":"…"}.
            if (message.TryGetProperty("error", out var error))
            {
                _handshake.TrySetException(new InvalidOperationException(error.GetString()));
            }
            else
            {
                _handshake.TrySetResult();
            }

            return;
        }

        switch (typeElement.GetInt32())
        {
            case 1: // invocation from the server
                var target = message.GetProperty("target").GetString();
                var arguments = message.GetProperty("arguments");
                var subscriptionId = arguments[0].GetString()!;
                if (!_subscriptions.TryGetValue(subscriptionId, out var log))
                {
                    // A message for a subscription whose Subscribe has not been answered (or was never made).
                    Unexpected.Enqueue(message.GetRawText());
                    break;
                }

                switch (target)
                {
                    case "events":
                        log.OnEvents(arguments[1].Clone());
                        break;
                    case "gap":
                        log.OnGap(arguments[1].Clone());
                        break;
                    case "ended":
                        log.OnEnded(arguments[1].Clone());
                        break;
                    default:
                        Unexpected.Enqueue(message.GetRawText());
                        break;
                }

                break;
            case 2: // stream item
                if (_streams.TryGetValue(message.GetProperty("invocationId").GetString()!, out var stream))
                {
                    stream.Writer.TryWrite(message.GetProperty("item").Clone());
                }

                break;
            case 3: // completion
                var id = message.GetProperty("invocationId").GetString()!;
                if (_streams.TryRemove(id, out var ended))
                {
                    ended.Writer.TryComplete(message.TryGetProperty("error", out var streamError) ? new HubInvocationException(streamError.GetString()!) : null);
                }
                else if (_pending.TryRemove(id, out var pending))
                {
                    if (message.TryGetProperty("error", out var error))
                    {
                        pending.Done.TrySetException(new HubInvocationException(error.GetString()!));
                    }
                    else
                    {
                        var result = message.TryGetProperty("result", out var r) ? r.Clone() : default;
                        pending.OnResult?.Invoke(result);
                        pending.Done.TrySetResult(result);
                    }
                }

                break;
            case 6: // ping
                break;
            case 7: // close
                CloseError = message.TryGetProperty("error", out var closeError) ? closeError.GetString() : null;
                CloseAllowsReconnect = message.TryGetProperty("allowReconnect", out var allowReconnect) && allowReconnect.GetBoolean();
                Unexpected.Enqueue(message.GetRawText());
                break;
            default:
                Unexpected.Enqueue(message.GetRawText());
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return; // disposed by its test and again by its owner (HubNodes)
        }

        // No ping may be sent while (or after) the close is: one send at a time on a WebSocket.
        _stopPinging.Cancel();
        await _pinging.ContinueWith(static _ => { }, TaskScheduler.Default);
        _stopPinging.Dispose();
        if (!_stalled && _socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        _closing.Cancel();
        _socket.Abort();
        await _receiving.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(static _ => { }, TaskScheduler.Default);
        _socket.Dispose();
        _closing.Dispose();
    }
}

/// <summary>A failed hub invocation; the message is the server's.</summary>
public sealed class HubInvocationException(string message) : Exception(message);
