namespace Hub.Server.Tests.Infrastructure;

/// <summary>A Subscribe request as tests write it; null members are left out so the server's defaults apply. With an
/// <see cref="Id"/>, the client routes the subscription's messages by it from before the answer.</summary>
public sealed record SubscribeArgs(
    string[] Topics,
    string[]? Types = null,
    long? After = null,
    int? MaxDemand = null,
    int? MinDemand = null,
    string? Demand = null,
    string? Overflow = null,
    string? Group = null,
    string? Dispatch = null,
    string? Epoch = null,
    string? Id = null) : IDemandRequest
{
    public long InitialCredits => Demand == "manual" ? 0 : MaxDemand ?? 1000;
}

/// <summary>A request that says how many credits its subscription starts with, for the client's ledger.</summary>
public interface IDemandRequest
{
    long InitialCredits { get; }
}
