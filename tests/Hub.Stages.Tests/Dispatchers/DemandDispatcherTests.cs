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

    /// <summary>GenStage's "subscribes, asks and dispatches": what cannot be placed comes back, and the demand is as if
    /// the dispatch had been given only what was placed.</summary>
    [Fact]
    public void Dispatch_WhenItCanPlaceNothing_ReturnsEveryEvent_AndChangesNoDemand()
    {
        var leftover = _dispatcher.Dispatch("ab".ToCharArray(), _sink, out long demand);
        Assert.Equal("ab", new string(leftover.ToArray())); // no subscriber
        Assert.Equal(0, demand);

        _dispatcher.Subscribe(1, Options);
        leftover = _dispatcher.Dispatch("ab".ToCharArray(), _sink, out demand);
        Assert.Equal("ab", new string(leftover.ToArray())); // a subscriber without demand
        Assert.Equal(0, demand);
        Assert.Equal(0, _dispatcher.DemandOf(1));

        Assert.Equal(3, _dispatcher.Ask(1, 3, _sink));
        Assert.True(_dispatcher.Dispatch("a".ToCharArray(), _sink, out _).IsEmpty);
        Assert.Equal(2, _dispatcher.DemandOf(1));
        Assert.Equal("d", new string(_dispatcher.Dispatch("bcd".ToCharArray(), _sink, out demand).ToArray()));
        Assert.Equal(0, demand);
        Assert.Equal(0, _dispatcher.DemandOf(1));

        leftover = _dispatcher.Dispatch("e".ToCharArray(), _sink, out demand);
        Assert.Equal("e", new string(leftover.ToArray()));
        Assert.Equal(0, demand);
        Assert.Equal(0, _dispatcher.DemandOf(1));
        Assert.Equal(0, _dispatcher.PendingDemand);
        Assert.Equal("abc", new string(_sink.EventsOf(1)));
        Assert.Equal(2, _dispatcher.Ask(1, 2, _sink)); // all of it forwarded: the failed dispatch used none
    }

    /// <summary>GenStage's DemandDispatcher warns when a subscriber asks for more than the first ask (its max demand).</summary>
    [Fact]
    public void Ask_ForMoreThanTheFirstAsk_ReportsADemandMismatch_OncePerAsk()
    {
        _dispatcher.Subscribe(1, Options);
        _dispatcher.Subscribe(2, Options);
        _dispatcher.Ask(1, 10, _sink);
        _dispatcher.Ask(2, 10, _sink);
        _dispatcher.Ask(1, 5, _sink);
        Assert.Empty(_sink.Reports);
        Assert.Equal(10, _dispatcher.MaxDemand);

        _dispatcher.Ask(2, 20, _sink);

        var report = Assert.Single(_sink.Reports);
        Assert.Equal(StageDiagnosticKind.DemandMismatch, report.Kind);
        Assert.Equal(20, report.Count);
        Assert.Contains("maximum demand of 10", report.Message, StringComparison.Ordinal);
        Assert.Contains("asked for 20", report.Message, StringComparison.Ordinal);
        Assert.Equal(10, _dispatcher.MaxDemand); // the expectation stays the first ask's
    }

    [Fact]
    public void Ask_ByAnUnknownSubscriber_SetsNoExpectation()
    {
        _dispatcher.Ask(9, 50, _sink);
        _dispatcher.Subscribe(1, Options);
        _dispatcher.Ask(1, 10, _sink);

        Assert.Equal(10, _dispatcher.MaxDemand);
        Assert.Empty(_sink.Reports);
    }

    /// <summary>Not in GenStage: the sink may say a subscriber cannot take more now (a socket with a batch unsent).</summary>
    [Fact]
    public void Dispatch_PassesOverASubscriberTheSinkSaysCannotTake_KeepingItsDemand()
    {
        _dispatcher.Subscribe(1, Options);
        _dispatcher.Subscribe(2, Options);
        _dispatcher.Ask(1, 5, _sink);
        _dispatcher.Ask(2, 2, _sink);
        _sink.CannotTake.Add(1);

        var leftover = _dispatcher.Dispatch("abcd".ToCharArray(), _sink, out _);

        Assert.Equal("ab", new string(_sink.EventsOf(2)));
        Assert.Equal("cd", new string(leftover.ToArray()));
        Assert.Equal(5, _dispatcher.DemandOf(1));
        _sink.CannotTake.Clear();
        _dispatcher.Dispatch(leftover, _sink, out _);
        Assert.Equal("cd", new string(_sink.EventsOf(1)));
    }

    /// <summary>Not in GenStage: a batch limit ends a batch early; the subscriber with the most demand then goes on.</summary>
    [Fact]
    public void Dispatch_WithABatchLimit_EndsEachBatchOnceItsSizeIsReached_HoldingAtLeastOne()
    {
        var dispatcher = new DemandDispatcher<char>(new BatchLimit<char>(c => c == 'x' ? 100 : 10, 25));
        dispatcher.Subscribe(1, Options);
        dispatcher.Ask(1, 10, _sink);

        dispatcher.Dispatch("abcxdefg".ToCharArray(), _sink, out _);

        Assert.Equal(["abc", "x", "def", "g"], _sink.BatchesOf(1).Select(b => new string(b)));
        Assert.Equal(2, dispatcher.DemandOf(1));
    }
}
