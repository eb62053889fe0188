using Hub.Stages.Runtime;

namespace Hub.Stages.Tests.Runtime;

public class EventBufferTests
{
    [Fact]
    public void PushBack_KeepLast_DropsTheOldest()
    {
        var buffer = new EventBuffer<int>(3, BufferKeep.Last);

        Assert.Equal(0, buffer.PushBack([1, 2]));
        Assert.Equal(2, buffer.PushBack([3, 4, 5]));

        Assert.Equal([3, 4, 5], buffer.TakeFront(10));
    }

    [Fact]
    public void PushBack_KeepFirst_DropsTheNewest()
    {
        var buffer = new EventBuffer<int>(3, BufferKeep.First);

        buffer.PushBack([1, 2]);
        Assert.Equal(2, buffer.PushBack([3, 4, 5]));

        Assert.Equal([1, 2, 3], buffer.TakeFront(10));
    }

    [Fact]
    public void PushBack_LongerThanCapacity_KeepLast_KeepsTheLastEvents()
    {
        var buffer = new EventBuffer<int>(2, BufferKeep.Last);

        buffer.PushBack([1]);
        Assert.Equal(3, buffer.PushBack([2, 3, 4, 5]));

        Assert.Equal([4, 5], buffer.TakeFront(10));
    }

    [Fact]
    public void PushFront_RestoresTakenEventsInOrder_AcrossTheRingsWrap()
    {
        var buffer = new EventBuffer<int>(int.MaxValue, BufferKeep.Last);
        for (int i = 0; i < 40; i++)
        {
            buffer.PushBack([i]);
        }

        int[] taken = buffer.TakeFront(30);
        buffer.PushBack([40, 41, 42]);
        buffer.PushFront(taken.AsSpan(25));

        Assert.Equal(Enumerable.Range(25, 18), buffer.TakeFront(100));
        Assert.Equal(0, buffer.Count);
    }
}
