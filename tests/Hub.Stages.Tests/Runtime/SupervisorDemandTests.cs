using Hub.Stages.Runtime;

namespace Hub.Stages.Tests.Runtime;

public class SupervisorDemandTests
{
    [Fact]
    public void EveryEventTakesASlot_SoNothingIsAskedWhileAllChildrenRun()
    {
        var demand = new SupervisorDemand(maxDemand: 10, minDemand: 5);

        Assert.Equal(0, demand.OnEvents(10, notStarted: 0));

        Assert.Equal(0, demand.Outstanding);
        Assert.Equal(10, demand.Live);
    }

    [Fact]
    public void FreedSlots_AreAskedForOnceMinDemandOfThemAreFree()
    {
        var demand = new SupervisorDemand(maxDemand: 10, minDemand: 5);
        demand.OnEvents(10, notStarted: 0);

        Assert.Equal([0L, 0L, 0L, 0L, 5L], Enumerable.Range(0, 5).Select(_ => demand.OnChildEnded()));
        Assert.Equal(5, demand.Outstanding);
        Assert.Equal(5, demand.Live);
        Assert.Equal(0, demand.Freed);
    }

    [Fact]
    public void EventsThatStartNoChild_FreeTheirSlotsAtOnce()
    {
        var demand = new SupervisorDemand(maxDemand: 4, minDemand: 2);

        Assert.Equal(2, demand.OnEvents(4, notStarted: 2));

        Assert.Equal(2, demand.Live);
        Assert.Equal(2, demand.Outstanding);
    }

    [Fact]
    public void FewerNotStartedThanMinDemand_WaitForMoreSlots()
    {
        var demand = new SupervisorDemand(maxDemand: 4, minDemand: 2);

        Assert.Equal(0, demand.OnEvents(4, notStarted: 1));
        Assert.Equal(2, demand.OnChildEnded());
    }

    [Fact]
    public void MinDemandZero_AsksForEachSlotAsItFrees()
    {
        var demand = new SupervisorDemand(maxDemand: 3, minDemand: 0);
        demand.OnEvents(3, notStarted: 0);

        Assert.Equal(1, demand.OnChildEnded());
        Assert.Equal(1, demand.OnChildEnded());
        Assert.Equal(2, demand.Outstanding);
    }

    [Fact]
    public void EventsInPartialBatches_TakeSlotsUntilOutstandingIsUsed()
    {
        var demand = new SupervisorDemand(maxDemand: 10, minDemand: 5);

        demand.OnEvents(6, notStarted: 0);
        demand.OnEvents(4, notStarted: 0);

        Assert.Equal(0, demand.Outstanding);
        Assert.Equal(10, demand.Live);
        Assert.Equal(0, demand.Excess);
    }

    [Fact]
    public void EventsBeyondTheDemand_AreCountedAsExcess_AndTakeNoSlot()
    {
        var demand = new SupervisorDemand(maxDemand: 2, minDemand: 1);

        demand.OnEvents(5, notStarted: 0);

        Assert.Equal(3, demand.Excess);
        Assert.Equal(2, demand.Live);
        Assert.Equal(0, demand.Outstanding);
    }
}
