using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests.Dispatchers;

public class DemandDispatcherTests
{
    private static readonly SubscriptionOptions<char> Options = SubscriptionOptions<char>.Default;

    private readonly DemandDispatcher<char> _dispatcher = new();
    private readonly RecordingSink<char> _sink = new();

    [Fact]
    public void Dispatch_ServesLargestDemandFirst_UpToItsWholeDemand_AndReturnsWhatNoOneTakes()
    {
        _dispatcher.Subscribe(1, Options);
        _dispatcher.Subscribe(2, Options);
        Assert.Equal(3, _dispatcher.Ask(1, 3, _sink));
        Assert.Equal(2, _dispatcher.Ask(2, 2, _sink));

        var leftover = _dispatcher.Dispatch("abcde".ToCharArray(), _sink, out long demand);

        Assert.True(leftover.IsEmpty);
        Assert.Equal(0, demand);
        Assert.Equal("abc", new string(_sink.EventsOf(1)));
        Assert.Equal("de", new string(_sink.EventsOf(2)));

        leftover = _dispatcher.Dispatch("fgh".ToCharArray(), _sink, out _);
        Assert.Equal("fgh", new string(leftover.ToArray()));
    }

    [Fact]
    public void Dispatch_TiesKeepSubscriptionOrder()
    {
        _dispatcher.Subscribe(1, Options);
        _dispatcher.Subscribe(2, Options);
        _dispatcher.Ask(1, 2, _sink);
        _dispatcher.Ask(2, 2, _sink);

        _dispatcher.Dispatch("ab".ToCharArray(), _sink, out _);

        Assert.Equal(1, Assert.Single(_sink.Deliveries).Id);
    }

    [Fact]
    public void Cancel_KeepsUnmetDemandAsPending_SoALaterAskForwardsNothing()
    {
        _dispatcher.Subscribe(1, Options);
        Assert.Equal(10, _dispatcher.Ask(1, 10, _sink));

        Assert.Equal(0, _dispatcher.Cancel(1));
        _dispatcher.Subscribe(2, Options);

        Assert.Equal(0, _dispatcher.Ask(2, 5, _sink));
        Assert.Equal(5, _dispatcher.PendingDemand);
        Assert.Equal(2, _dispatcher.Ask(2, 7, _sink));
    }

    [Fact]
    public void Ask_AfterCancel_ForwardsNoDemand()
    {
        _dispatcher.Subscribe(1, Options);
        _dispatcher.Cancel(1);

        Assert.Equal(0, _dispatcher.Ask(1, 10, _sink));
        Assert.Equal(0, _dispatcher.SubscriberCount);
    }

    [Fact]
    public void Subscribe_SameIdTwice_Throws()
    {
        _dispatcher.Subscribe(1, Options);

        Assert.Throws<ArgumentException>(() => _dispatcher.Subscribe(1, Options));
    }
}
