using System.Text;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A minimal reader of the protobuf wire format, enough to walk OTLP requests: each field's number and its value
/// (a varint, fixed 32/64 bits, or length-delimited bytes, which may hold a nested message or a string).
/// </summary>
public static class ProtoWire
{
    public readonly record struct Field(int Number, int WireType, ulong Scalar, ReadOnlyMemory<byte> Bytes)
    {
        public string Text => Encoding.UTF8.GetString(Bytes.Span);

        public string Hex => Convert.ToHexStringLower(Bytes.Span);

        public IReadOnlyList<Field> Message => Read(Bytes);
    }

    public static IReadOnlyList<Field> Read(ReadOnlyMemory<byte> message)
    {
        var fields = new List<Field>();
        var span = message.Span;
        var position = 0;
        while (position < span.Length)
        {
            var key = ReadVarint(span, ref position);
            var number = (int)(key >> 3);
            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    fields.Add(new Field(number, wireType, ReadVarint(span, ref position), default));
                    break;
                case 1:
                    fields.Add(new Field(number, wireType, BitConverter.ToUInt64(span.Slice(position, 8)), message.Slice(position, 8)));
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(span, ref position);
                    fields.Add(new Field(number, wireType, 0, message.Slice(position, length)));
                    position += length;
                    break;
                case 5:
                    fields.Add(new Field(number, wireType, BitConverter.ToUInt32(span.Slice(position, 4)), message.Slice(position, 4)));
                    position += 4;
                    break;
                default:
                    throw new FormatException($"wire type {wireType} at byte {position} is not supported");
            }
        }

        return fields;
    }

    /// <summary>The fields numbered <paramref name="number"/>.</summary>
    public static IEnumerable<Field> All(this IReadOnlyList<Field> fields, int number) => fields.Where(f => f.Number == number);

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = span[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new FormatException("varint longer than 64 bits");
    }
}
