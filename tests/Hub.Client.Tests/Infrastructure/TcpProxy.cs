using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Hub.Client.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a hub, to break the network between a client and it: <see cref="CutAll"/> resets
/// every connection at once (no close frame, no HTTP answer: the network went away); while <see cref="Blocked"/>, new
/// connections are dropped as soon as accepted. The listener stays, so clients reconnect once it lets them.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<int, (Socket Downstream, Socket Upstream)> _pairs = new();
    private readonly CancellationTokenSource _closing = new();
    private int _nextPair;
    private int _refused;
    private Task _accepting = Task.CompletedTask;

    public TcpProxy(Uri target) => _target = new IPEndPoint(IPAddress.Loopback, target.Port);

    /// <summary>The address clients use instead of the hub's.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>New connections are dropped at once while true.</summary>
    public volatile bool Blocked;

    /// <summary>Connections dropped because the proxy was blocked.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public void Start()
    {
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    /// <summary>Resets every live connection, both ways.</summary>
    public void CutAll()
    {
        foreach (var (key, pair) in _pairs)
        {
            _pairs.TryRemove(key, out _);
            Reset(pair.Downstream);
            Reset(pair.Upstream);
        }
    }

    private async Task AcceptAsync()
    {
        while (!_closing.IsCancellationRequested)
        {
            Socket downstream;
            try
            {
                downstream = await _listener.AcceptSocketAsync(_closing.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (Blocked)
            {
                Interlocked.Increment(ref _refused);
                Reset(downstream);
                continue;
            }

            _ = PairAsync(downstream);
        }
    }

    private async Task PairAsync(Socket downstream)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await upstream.ConnectAsync(_target, _closing.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            Reset(downstream);
            upstream.Dispose();
            return;
        }

        var key = Interlocked.Increment(ref _nextPair);
        _pairs[key] = (downstream, upstream);
        await Task.WhenAny(PumpAsync(downstream, upstream), PumpAsync(upstream, downstream));
        _pairs.TryRemove(key, out _);
        Reset(downstream);
        Reset(upstream);
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _closing.Token);
                if (read == 0)
                {
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _closing.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0); // close with RST, as a dropped network looks
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        _listener.Stop();
        CutAll();
        await _accepting;
        _closing.Dispose();
    }
}
