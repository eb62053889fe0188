using System.Text.Json;
using Hub.Server.Subscriptions;
using Hub.Stages.Dispatchers;

namespace Hub.Server.Tests.Subscriptions;

public sealed class SubscribeRequestTests
{
    private static SubscribeRequest Parse(string json) => SubscribeRequest.Parse(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Parse_AppliesGenStagesDefaults()
    {
        var request = Parse("""{"topics":["a.*"]}""");
        Assert.Equal((1000, 500, SubscriberDemand.Auto, OverflowPolicy.DropOldest, (long?)null), (request.MaxDemand, request.MinDemand, request.Demand, request.Overflow, request.After));
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
        Assert.Equal((12L, 10, 0, SubscriberDemand.Manual, OverflowPolicy.Disconnect), (request.After!.Value, request.MaxDemand, request.MinDemand, request.Demand, request.Overflow));
    }

    [Fact]
    public void Parse_MaxDemandOverInt32_IsRejected()
    {
        var error = Assert.Throws<SubscribeRequestException>(() => Parse("""{"topics":["a"],"maxDemand":3000000000}"""));
        Assert.Equal("maxDemand", error.Field);
    }
    [Theory]
    [InlineData(101, "maxDemand")]
    [InlineData(2147483647, "maxDemand")]
    public void Parse_MaxDemandOverMaxAsk_IsRejectedNamingTheFieldAndTheSetting(long maxDemand, string field)
    {
        var error = Assert.Throws<SubscribeRequestException>(() => SubscribeRequest.Parse(JsonDocument.Parse($$"""{"topics":["a"],"maxDemand":{{maxDemand}}}""").RootElement, maxAsk: 100));
        Assert.Equal(field, error.Field);
        Assert.Equal($"maxDemand: may be at most 100 (Hub:Limits:MaxAsk, the bound of Ask's n; got {maxDemand})", error.Message);
        Assert.Equal((100, 50), (SubscribeRequest.Parse(JsonDocument.Parse("""{"topics":["a"],"maxDemand":100}""").RootElement, maxAsk: 100) is var ok ? (ok.MaxDemand, ok.MinDemand) : default));
    }

    [Fact]
    public void Parse_WithoutMaxDemand_TakesTheDefaultWithinMaxAsk()
    {
        var request = SubscribeRequest.Parse(JsonDocument.Parse("""{"topics":["a"]}""").RootElement, maxAsk: 10);
        Assert.Equal((10, 5), (request.MaxDemand, request.MinDemand));
    }

    [Fact]
    public void GroupKey_IsTheNamePlusWhatTheGroupReads_WhateverTheOrderOrRepetition()
    {
        static Hub.Log.GroupKey Key(string json) => Parse(json).GroupKey!.Value;
        var key = Key("""{"topics":["a.x","a.y"],"types":["t1","t2"],"group":"billing"}""");
        Assert.Equal("billing", key.Name);
        Assert.Matches("^[0-9a-f]{32}$", key.Identity);
        Assert.Equal(key, Key("""{"topics":["a.y","a.x","a.y"],"types":["t2","t1"],"group":"billing","dispatch":"demand"}"""));

        string[] others =
        [
            """{"topics":["a.x"],"types":["t1","t2"],"group":"billing"}""",
            """{"topics":["a.x","a.y","b.x"],"types":["t1","t2"],"group":"billing"}""",
            """{"topics":["a.x","a.y"],"types":["t1"],"group":"billing"}""",
            """{"topics":["a.x","a.y"],"group":"billing"}""",
            """{"topics":["a.x","a.y"],"types":["t1","t2"],"group":"billing","dispatch":"partition"}""",
            """{"topics":["a.x","a.y"],"types":["t1","t2"],"group":"billing2"}""",
            """{"topics":["a.x","a.y"],"types":["t1t2"],"group":"billing"}""",
        ];
        foreach (var other in others)
        {
            Assert.NotEqual(key, Key(other));
        }

        Assert.Null(Parse("""{"topics":["a.x"]}""").GroupKey);
    }
}
