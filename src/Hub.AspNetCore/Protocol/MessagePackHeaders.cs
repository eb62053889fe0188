using System.Buffers.Binary;

namespace Hub.Server.Protocol;

/// <summary>
/// The few MessagePack headers a message written straight into a span needs, each in the shortest form the
/// MessagePack spec gives it, which is the form <c>MessagePackWriter</c> writes (so the bytes are the same): array
/// headers (fixarray, array 16, array 32) and string headers (fixstr, str 8, str 16, str 32).
/// </summary>
internal static class MessagePackHeaders
{
    /// <summary>The bytes of an array header for <paramref name="count"/> items.</summary>
    public static int ArrayHeaderLength(int count) => count <= 15 ? 1 : count <= ushort.MaxValue ? 3 : 5;

    /// <summary>Writes an array header for <paramref name="count"/> items; returns the bytes written.</summary>
    public static int WriteArrayHeader(Span<byte> destination, int count)
    {
        if (count <= 15)
        {
            destination[0] = (byte)(0x90 | count);
            return 1;
        }

        if (count <= ushort.MaxValue)
        {
            destination[0] = 0xdc;
            BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)count);
            return 3;
        }

        destination[0] = 0xdd;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)count);
        return 5;
    }

    /// <summary>The bytes of a string header for a string of <paramref name="byteCount"/> UTF-8 bytes.</summary>
    public static int StringHeaderLength(int byteCount) => byteCount <= 31 ? 1 : byteCount <= byte.MaxValue ? 2 : byteCount <= ushort.MaxValue ? 3 : 5;

    /// <summary>Writes a string header for <paramref name="byteCount"/> UTF-8 bytes; returns the bytes written.</summary>
    public static int WriteStringHeader(Span<byte> destination, int byteCount)
    {
        if (byteCount <= 31)
        {
            destination[0] = (byte)(0xa0 | byteCount);
            return 1;
        }

        if (byteCount <= byte.MaxValue)
        {
            destination[0] = 0xd9;
            destination[1] = (byte)byteCount;
            return 2;
        }

        if (byteCount <= ushort.MaxValue)
        {
            destination[0] = 0xda;
            BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)byteCount);
            return 3;
        }

        destination[0] = 0xdb;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)byteCount);
        return 5;
    }
}
