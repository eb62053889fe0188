using System.Security.Claims;
using Hub.Server.Auth;
using Hub.Server.Topics;

namespace Hub.Server.Tests.Auth;

public sealed class TopicGrantsTests
{
    private static ClaimsPrincipal User(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), authenticationType: "test"));

    [Fact]
    public void From_ReadsEachMultiValuedClaim_AndIgnoresValuesThatAreNotPatterns()
    {
        var grants = TopicGrants.From(User(("hub:pub", "orders.>"), ("hub:pub", "bad..pattern"), ("hub:sub", "payments.*"), ("hub:sub", ">.x")));
        Assert.Equal(["orders.>"], grants.Publish.Select(p => p.Text));
        Assert.Equal(["payments.*"], grants.Subscribe.Select(p => p.Text));
        Assert.False(grants.IsAdmin);
    }

    [Fact]
    public void MayPublish_NeedsAMatchingPublishGrant_NotASubscribeOne()
    {
        var grants = TopicGrants.From(User(("hub:pub", "orders.*"), ("hub:sub", ">")));
        Assert.True(grants.MayPublish("orders.eu"));
        Assert.False(grants.MayPublish("orders.eu.created"));
        Assert.False(grants.MayPublish("payments.card"));
    }

    [Fact]
    public void MaySubscribe_NeedsOneGrantCoveringTheWholePattern()
    {
        var grants = TopicGrants.From(User(("hub:sub", "orders.eu.>"), ("hub:sub", "orders.us.>")));
        Assert.True(grants.MaySubscribe(TopicPattern.Parse("orders.eu.*")));
        Assert.False(grants.MaySubscribe(TopicPattern.Parse("orders.*.created"))); // two grants together do not cover it
        Assert.False(grants.MaySubscribe(TopicPattern.Parse("orders.>")));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("false", false)]
    [InlineData("1", false)]
    public void IsAdmin_OnlyForTheValueTrue(string value, bool admin) => Assert.Equal(admin, TopicGrants.From(User(("hub:admin", value))).IsAdmin);

    [Fact]
    public void AnAnonymousUser_HoldsNothing_EvenWithClaims()
    {
        var anonymous = new ClaimsPrincipal(new ClaimsIdentity([new Claim("hub:pub", ">"), new Claim("hub:admin", "true")])); // no authentication type
        var grants = TopicGrants.From(anonymous);
        Assert.False(grants.MayPublish("a"));
        Assert.False(grants.MaySubscribe(TopicPattern.Parse("a")));
        Assert.False(grants.IsAdmin);
    }

    [Fact]
    public void Everything_AllowsAll_WhenNoCredentialsAreRequired()
    {
        Assert.True(TopicGrants.Everything.MayPublish("any.topic"));
        Assert.True(TopicGrants.Everything.MaySubscribe(TopicPattern.Parse(">")));
        Assert.True(TopicGrants.Everything.IsAdmin);
    }
}
