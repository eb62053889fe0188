using System.Buffers;
using Hub.Server.Protocol;
using MessagePack;

namespace Hub.Server.Tests.Protocol;

/// <summary>The headers written straight into a span are MessagePackWriter's, at every size boundary.</summary>
public sealed class MessagePackHeadersTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(255)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    [InlineData(int.MaxValue)]
    public void AnArrayHeader_IsMessagePackWritersOwn(int count)
    {
        var expected = Written((ref MessagePackWriter writer) => writer.WriteArrayHeader(count));
        var span = new byte[5];

        var written = MessagePackHeaders.WriteArrayHeader(span, count);

        Assert.Equal(expected, span[..written]);
        Assert.Equal(expected.Length, MessagePackHeaders.ArrayHeaderLength(count));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    public void AStringHeader_IsMessagePackWritersOwn(int byteCount)
    {
        var text = new string('x', byteCount);
        var whole = Written((ref MessagePackWriter writer) => writer.Write(text));
        var expected = whole[..^byteCount];
        var span = new byte[5];

        var written = MessagePackHeaders.WriteStringHeader(span, byteCount);

        Assert.Equal(expected, span[..written]);
        Assert.Equal(expected.Length, MessagePackHeaders.StringHeaderLength(byteCount));
    }

    private delegate void Write(ref MessagePackWriter writer);

    private static byte[] Written(Write write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
