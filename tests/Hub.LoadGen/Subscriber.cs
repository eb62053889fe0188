using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Hub.LoadGen;

/// <summary>
/// One subscriber on its own WebSocket, speaking SignalR's JSON hub protocol with as little work per event as it can:
/// records are split on the 0x1e separator in one reusable buffer, the message's head is read with
/// <see cref="Utf8JsonReader"/> and its events are counted by searching for their timestamps; nothing is materialised. Against the hub it subscribes and asks again for what it has handled once that reaches
/// <c>maxDemand − minDemand</c> (GenStage's automatic demand); against the baseline it only listens. A slow subscriber
/// waits after each <c>events</c> message; a stalled one stops reading its socket once subscribed, so the server's
/// writes to it back up as they would to a hung peer.
/// </summary>
internal sealed class Subscriber : IAsyncDisposable
{
    private const byte RecordSeparator = 0x1e;
    private static readonly byte[] Handshake = "{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray();
    private static readonly byte[] Ping = "{\"type\":6}\u001e"u8.ToArray();
    private static readonly byte[] DataMarker = "\"data\":{\"t\":"u8.ToArray();
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _isHub;
    private readonly long _askStep;
    private byte[] _buffer = new byte[64 * 1024];
    private byte[]? _askMessage;
    private long _unasked;
    private long _delivered;
    private volatile bool _stalled;
    private Task _receiving = Task.CompletedTask;

    public Subscriber(SubscriberKind kind, bool isHub, int maxDemand, int minDemand)
    {
        Kind = kind;
        _isHub = isHub;
        _askStep = maxDemand - minDemand;
    }

    public SubscriberKind Kind { get; }

    /// <summary>Events received (those whose <c>data</c> carries the publisher's timestamp).</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>The <see cref="Stopwatch"/> timestamp of the last read that brought events (0: none).</summary>
    public long LastDeliveryTimestamp { get; private set; }

    /// <summary>Publish → receive latencies, when any event came.</summary>
    public LatencyHistogram? Latency { get; private set; }

    /// <summary>Why the connection ended early, if it did (a close message or a failed read).</summary>
    public string? Failure { get; private set; }

    public string? SubscriptionId { get; private set; }

    /// <summary>Connects and completes the handshake; against the hub, subscribes to <paramref name="topic"/> for new events.</summary>
    public async Task StartAsync(Uri baseUrl, string topic, int maxDemand, int minDemand, CancellationToken cancellationToken)
    {
        var uri = new UriBuilder(new Uri(baseUrl, "hubs/events")) { Scheme = baseUrl.Scheme == "https" ? "wss" : "ws" }.Uri;
        await _socket.ConnectAsync(uri, cancellationToken);
        _receiving = Task.Run(ReceiveLoopAsync, CancellationToken.None);
        await SendAsync(Handshake);
        await _handshake.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        if (_isHub)
        {
            var request = string.Create(CultureInfo.InvariantCulture,
                $"{{\"type\":1,\"invocationId\":\"s\",\"target\":\"Subscribe\",\"arguments\":[{{\"topics\":[{JsonSerializer.Serialize(topic)}],\"after\":null,\"maxDemand\":{maxDemand},\"minDemand\":{minDemand}}}]}}\u001e");
            await SendAsync(Encoding.UTF8.GetBytes(request));
            SubscriptionId = await _subscribed.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            // Ask is sent without an invocation id: fire and forget, so the server sends no completion for it.
            _askMessage = Encoding.UTF8.GetBytes($"{{\"type\":1,\"target\":\"Ask\",\"arguments\":[{JsonSerializer.Serialize(SubscriptionId)},");
        }

        if (Kind == SubscriberKind.Stalled)
        {
            _stalled = true;
        }
    }

    /// <summary>Sends a keep-alive ping (the server closes a connection silent for 30 s); a stalled subscriber sends nothing.</summary>
    public Task PingAsync() => _stalled || _socket.State != WebSocketState.Open ? Task.CompletedTask : SendAsync(Ping);

    private async Task SendAsync(ReadOnlyMemory<byte> message)
    {
        await _sendLock.WaitAsync(_closing.Token);
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Text, true, _closing.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task AskAsync(long n)
    {
        var message = new byte[_askMessage!.Length + 24];
        _askMessage.CopyTo(message, 0);
        var length = _askMessage.Length;
        length += Encoding.ASCII.GetBytes(n.ToString(CultureInfo.InvariantCulture), message.AsSpan(length));
        "]}\u001e"u8.CopyTo(message.AsSpan(length));
        length += 3;
        await SendAsync(message.AsMemory(0, length));
    }

    private async Task ReceiveLoopAsync()
    {
        int start = 0, end = 0;
        try
        {
            while (!_stalled)
            {
                if (end == _buffer.Length)
                {
                    if (start > 0)
                    {
                        _buffer.AsSpan(start, end - start).CopyTo(_buffer);
                        end -= start;
                        start = 0;
                    }
                    else
                    {
                        Array.Resize(ref _buffer, _buffer.Length * 2);
                    }
                }

                var result = await _socket.ReceiveAsync(_buffer.AsMemory(end), _closing.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Failure ??= $"closed by the server: {_socket.CloseStatus} {_socket.CloseStatusDescription}";
                    return;
                }

                end += result.Count;
                var now = Stopwatch.GetTimestamp();
                var batches = 0;
                long events = 0;
                int separator;
                while ((separator = _buffer.AsSpan(start, end - start).IndexOf(RecordSeparator)) >= 0)
                {
                    var n = Handle(_buffer.AsSpan(start, separator), now);
                    if (n >= 0)
                    {
                        batches++;
                        events += n;
                    }

                    start += separator + 1;
                }

                if (start == end)
                {
                    start = end = 0;
                }

                if (events > 0)
                {
                    LastDeliveryTimestamp = now;
                    Interlocked.Add(ref _delivered, events);
                }

                if (batches > 0 && Kind == SubscriberKind.Slow)
                {
                    await Task.Delay(SlowDelayOf(batches), _closing.Token);
                }

                if (_isHub && _askMessage is not null && events > 0)
                {
                    _unasked += events;
                    if (_unasked >= _askStep)
                    {
                        var n = _unasked;
                        _unasked = 0;
                        await AskAsync(n);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (WebSocketException ex)
        {
            Failure ??= ex.Message;
        }
        finally
        {
            _handshake.TrySetException(new InvalidOperationException(Failure ?? "the connection closed"));
            _subscribed.TrySetException(new InvalidOperationException(Failure ?? "the connection closed"));
        }
    }

    /// <summary>A slow subscriber's wait after each events message.</summary>
    internal TimeSpan SlowDelay { get; init; } = TimeSpan.FromMilliseconds(10);

    private TimeSpan SlowDelayOf(int batches) => SlowDelay * batches;

    /// <summary>Handles one record; returns the events it carried for an <c>events</c> invocation, otherwise −1.</summary>
    private int Handle(ReadOnlySpan<byte> record, long now)
    {
        var reader = new Utf8JsonReader(record);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return -1;
        }

        var type = -1;
        var isEvents = false;
        string? invocationId = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            // At depth 1: a property of the message.
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("target"u8))
            {
                reader.Read();
                isEvents = reader.ValueTextEquals("events"u8);
            }
            else if (reader.ValueTextEquals("arguments"u8) && type == 1 && isEvents)
            {
                return CountEvents(record[(int)reader.BytesConsumed..], now);
            }
            else if (reader.ValueTextEquals("invocationId"u8))
            {
                reader.Read();
                invocationId = reader.GetString();
            }
            else if (reader.ValueTextEquals("result"u8) && type == 3 && invocationId == "s")
            {
                reader.Read();
                var result = JsonElement.ParseValue(ref reader);
                _subscribed.TrySetResult(result.GetProperty("subscriptionId").GetString()!);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                var error = reader.GetString();
                if (type == 3 && invocationId == "s")
                {
                    _subscribed.TrySetException(new InvalidOperationException($"Subscribe failed: {error}"));
                }
                else if (type == -1)
                {
                    _handshake.TrySetException(new InvalidOperationException($"handshake failed: {error}"));
                }
                else
                {
                    Failure ??= error;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (type == -1)
        {
            _handshake.TrySetResult(); // {} : the handshake answer
        }

        return -1;
    }

    /// <summary>Counts the events of an <c>events</c> invocation's arguments (<paramref name="arguments"/>: the rest of the
    /// record) and records each one's latency from the timestamp the publisher wrote as the first field of its
    /// <c>data</c>. Both servers write the data as it was posted, compactly, so the marker <c>"data":{"t":</c> is found
    /// with a vectorised search instead of a token walk: the client's cost per event stays well below the server's.</summary>
    private int CountEvents(ReadOnlySpan<byte> arguments, long now)
    {
        var count = 0;
        var toNanoseconds = 1e9 / Stopwatch.Frequency;
        int at;
        while ((at = arguments.IndexOf(DataMarker)) >= 0)
        {
            arguments = arguments[(at + DataMarker.Length)..];
            if (Utf8Parser.TryParse(arguments, out long stamp, out var length))
            {
                count++;
                (Latency ??= new LatencyHistogram()).Record((long)((now - stamp) * toNanoseconds));
                arguments = arguments[length..];
            }
        }

        return count;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stalled && _socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        await _closing.CancelAsync();
        _socket.Abort();
        await _receiving.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default);
        _socket.Dispose();
        _closing.Dispose();
        _sendLock.Dispose();
    }
}
