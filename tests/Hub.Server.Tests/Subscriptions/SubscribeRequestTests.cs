using System.Text.Json;
using Hub.Server.Subscriptions;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;

namespace Hub.Server.Tests.Subscriptions;

public sealed class SubscribeRequestTests
{
    private static SubscribeRequest Parse(string json) => SubscribeRequest.Parse(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Parse_AppliesGenStagesDefaults()
    {
        var request = Parse("""{"topics":["a.*"]}""");
        Assert.Equal((1000, 500, DemandMode.Automatic, OverflowPolicy.DropOldest, (long?)null), (request.MaxDemand, request.MinDemand, request.Demand, request.Overflow, request.After));
        Assert.Null(request.Types);
    }

    [Fact]
    public void Parse_MinDemandDefaultsToHalfOfMaxDemand_RoundedDown() =>
        Assert.Equal(3, Parse("""{"topics":["a"],"maxDemand":7}""").MinDemand);

    [Fact]
    public void Parse_ReadsEveryField()
    {
        var request = Parse("""{"topics":["a",">"],"types":["x","y"],"after":12,"maxDemand":10,"minDemand":0,"demand":"manual","overflow":"disconnect","dispatch":"broadcast","group":null}""");
        Assert.Equal(["a", ">"], request.Topics);
        Assert.Equal(["x", "y"], request.Types!);
        Assert.Equal((12L, 10, 0, DemandMode.Manual, OverflowPolicy.Disconnect), (request.After!.Value, request.MaxDemand, request.MinDemand, request.Demand, request.Overflow));
    }

    [Fact]
    public void Parse_MaxDemandOverInt32_IsRejected()
    {
        var error = Assert.Throws<SubscribeRequestException>(() => Parse("""{"topics":["a"],"maxDemand":3000000000}"""));
        Assert.Equal("maxDemand", error.Field);
    }
}
