namespace Hub.Client;

/// <summary>The <c>Subscribe</c> argument on the wire (camelCase, nulls left out).</summary>
internal sealed record WireSubscribeRequest(
    string Id,
    IReadOnlyList<string> Topics,
    IReadOnlyList<string>? Types,
    long? After,
    string? Epoch,
    int MaxDemand,
    int MinDemand,
    string Demand,
    string Overflow,
    string? Group,
    string? Dispatch)
{
    public static WireSubscribeRequest From(SubscribeRequest request, string id, long? after, string? epoch) => new(
        id,
        request.Topics,
        request.Types,
        after,
        epoch,
        request.MaxDemand,
        request.EffectiveMinDemand,
        request.Demand == DemandMode.Manual ? "manual" : "auto",
        request.Overflow == OverflowPolicy.Disconnect ? "disconnect" : "dropOldest",
        request.Group,
        request.Dispatch switch
        {
            GroupDispatch.Partition => "partition",
            GroupDispatch.Demand => "demand",
            _ => null,
        });
}

/// <summary>What <c>Subscribe</c> answers; <see cref="Epoch"/> from hubs that keep one.</summary>
internal sealed record SubscribeAnswer(string SubscriptionId, long Position, string? Epoch);
