using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A WebSocket client over a bare TCP socket (RFC 6455, no extensions), for what <see cref="System.Net.WebSockets.ClientWebSocket"/>
/// hides: where each frame the server sends begins and ends. It keeps every data frame's payload, in order, as one
/// stream of bytes (<see cref="Received"/>) and the frames' bounds in it (<see cref="FrameOf"/>).
/// </summary>
public sealed class FrameSocket : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly List<int> _frameEnds = [];
    private readonly List<byte> _received = [];

    private FrameSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>The payloads of the data frames received so far, one after the other.</summary>
    public IReadOnlyList<byte> Received => _received;

    /// <summary>Data frames received so far.</summary>
    public int Frames => _frameEnds.Count;

    /// <summary>Opens the WebSocket at <paramref name="path"/> of <paramref name="hubBase"/> (http only).</summary>
    public static async Task<FrameSocket> ConnectAsync(Uri hubBase, string path, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(hubBase.Host, hubBase.Port, cancellationToken);
        var socket = new FrameSocket(tcp);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET /{path} HTTP/1.1\r\nHost: {hubBase.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await socket._stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);

        // The answer's head, byte by byte up to the empty line (the frames that follow stay unread).
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            await socket._stream.ReadExactlyAsync(one, cancellationToken);
            head.Add(one[0]);
            if (head.Count > 16 * 1024)
            {
                throw new InvalidDataException("The upgrade answer's head does not end.");
            }
        }

        var text = Encoding.ASCII.GetString(head.ToArray());
        if (!text.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"The upgrade was refused: {text}");
        }

        return socket;
    }

    /// <summary>Sends one masked frame (text or binary) with FIN set.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> payload, bool text, CancellationToken cancellationToken)
    {
        var header = new byte[14];
        header[0] = (byte)(0x80 | (text ? 0x1 : 0x2));
        int length;
        if (payload.Length < 126)
        {
            header[1] = (byte)(0x80 | payload.Length);
            length = 2;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)payload.Length);
            length = 4;
        }
        else
        {
            header[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), (ulong)payload.Length);
            length = 10;
        }

        var mask = RandomNumberGenerator.GetBytes(4);
        mask.CopyTo(header.AsSpan(length));
        length += 4;
        var masked = payload.ToArray();
        for (var i = 0; i < masked.Length; i++)
        {
            masked[i] ^= mask[i % 4];
        }

        await _stream.WriteAsync(header.AsMemory(0, length), cancellationToken);
        await _stream.WriteAsync(masked, cancellationToken);
    }

    /// <summary>Reads the next data frame (answering pings, failing on a close) and appends its payload to <see cref="Received"/>.</summary>
    public async Task ReadFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var header = new byte[2];
            await _stream.ReadExactlyAsync(header, cancellationToken);
            var opcode = header[0] & 0x0f;
            if ((header[1] & 0x80) != 0)
            {
                throw new InvalidDataException("A server's frame must not be masked.");
            }

            long length = header[1] & 0x7f;
            if (length == 126)
            {
                var extended = new byte[2];
                await _stream.ReadExactlyAsync(extended, cancellationToken);
                length = BinaryPrimitives.ReadUInt16BigEndian(extended);
            }
            else if (length == 127)
            {
                var extended = new byte[8];
                await _stream.ReadExactlyAsync(extended, cancellationToken);
                length = checked((long)BinaryPrimitives.ReadUInt64BigEndian(extended));
            }

            var payload = new byte[checked((int)length)];
            await _stream.ReadExactlyAsync(payload, cancellationToken);
            switch (opcode)
            {
                case 0x0 or 0x1 or 0x2: // continuation, text, binary
                    _received.AddRange(payload);
                    _frameEnds.Add(_received.Count);
                    return;
                case 0x8:
                    throw new InvalidDataException($"The server closed the WebSocket ({(payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 0)}).");
                case 0x9: // ping: answer with a pong carrying the same payload
                    await SendControlAsync(0xA, payload, cancellationToken);
                    break;
                default: // pong
                    break;
            }
        }
    }

    /// <summary>The index of the data frame that carries byte <paramref name="offset"/> of <see cref="Received"/>.</summary>
    public int FrameOf(int offset)
    {
        var index = _frameEnds.BinarySearch(offset + 1);
        return index >= 0 ? index : ~index;
    }

    private async Task SendControlAsync(byte opcode, byte[] payload, CancellationToken cancellationToken)
    {
        var mask = RandomNumberGenerator.GetBytes(4);
        var frame = new byte[6 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        frame[1] = (byte)(0x80 | payload.Length);
        mask.CopyTo(frame, 2);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        }

        await _stream.WriteAsync(frame, cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
