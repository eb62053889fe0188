using System.Diagnostics;

namespace Hub.Stages.Runtime;

/// <summary>
/// A <see cref="ConsumerSupervisor{T}"/>'s demand arithmetic for one subscription (GenStage's <c>maybe_ask</c>): each
/// event it asked for holds a slot until its child ends; freed slots are asked for again once there are
/// <c>minDemand</c> or more of them. A pure state machine; the supervisor serialises calls.
/// </summary>
internal sealed class SupervisorDemand
{
    public SupervisorDemand(int maxDemand, int minDemand)
    {
        MaxDemand = maxDemand;
        MinDemand = minDemand;
        Outstanding = maxDemand;
        AssertInvariants();
    }

    public int MaxDemand { get; }

    public int MinDemand { get; }

    /// <summary>Asked for and not yet received (the initial ask is <c>maxDemand</c>).</summary>
    public long Outstanding { get; private set; }

    /// <summary>Events received whose child still holds its slot (running or waiting to restart).</summary>
    public long Live { get; private set; }

    /// <summary>Slots freed and not yet asked for.</summary>
    public long Freed { get; private set; }

    /// <summary>How many events arrived beyond what was asked for, in all (a protocol error).</summary>
    public long Excess { get; private set; }

    /// <summary>
    /// Events arrived. The first <see cref="Outstanding"/> of them take a slot each; any beyond are a protocol error,
    /// counted in <see cref="Excess"/> and given no slot. <paramref name="notStarted"/> of the slot-taking events started
    /// no child (declined or failed to start), so their slots are free at once. Returns the demand to ask for now.
    /// </summary>
    public long OnEvents(int count, int notStarted)
    {
        long slotted = Math.Min(count, Outstanding);
        Debug.Assert(notStarted >= 0 && notStarted <= slotted, "only slot-taking events are counted as not started");
        Excess += count - slotted;
        Outstanding -= slotted;
        Live += slotted - notStarted;
        return Free(notStarted);
    }

    /// <summary>A child that took a slot of this subscription has ended for good. Returns the demand to ask for now.</summary>
    public long OnChildEnded()
    {
        Debug.Assert(Live > 0, "a slot-holding child was live");
        Live--;
        return Free(1);
    }

    private long Free(long slots)
    {
        Freed += slots;
        long ask = 0;
        if (Freed > 0 && Freed >= MinDemand)
        {
            ask = Freed;
            Freed = 0;
            Outstanding += ask;
        }

        AssertInvariants();
        return ask;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Outstanding >= 0 && Live >= 0 && Freed >= 0, "counts are never negative");
        Debug.Assert(Outstanding + Live + Freed == MaxDemand, "every slot is outstanding, live or freed: outstanding + live + freed = maxDemand");
        Debug.Assert(Freed == 0 || Freed < MinDemand, "no idle freed slots once minDemand of them have been freed");
    }
}
