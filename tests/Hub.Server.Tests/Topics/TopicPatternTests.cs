using Hub.Server.Topics;

namespace Hub.Server.Tests.Topics;

public sealed class TopicPatternTests
{
    [Theory]
    [InlineData("orders.*", "orders.eu", true)]
    [InlineData("orders.*", "orders.eu.created", false)]
    [InlineData("orders.*", "orders", false)]
    [InlineData("orders.>", "orders.eu", true)]
    [InlineData("orders.>", "orders.eu.created", true)]
    [InlineData("orders.>", "orders", false)]
    [InlineData(">", "anything.at.all", true)]
    [InlineData(">", "one", true)]
    [InlineData("*", "one", true)]
    [InlineData("*", "one.two", false)]
    [InlineData("*.eu.*", "orders.eu.created", true)]
    [InlineData("*.eu.*", "orders.us.created", false)]
    [InlineData("*.eu.>", "orders.eu.created.now", true)]
    [InlineData("orders.eu", "orders.eu", true)]
    [InlineData("orders.eu", "orders.eux", false)]
    [InlineData("orders.eu", "orders.e", false)]
    [InlineData("orders.eu", "orders.eu.x", false)]
    [InlineData("Orders.eu", "orders.eu", false)]
    public void Matches_FollowsNatsWildcards(string pattern, string topic, bool expected) =>
        Assert.Equal(expected, TopicPattern.Parse(pattern).Matches(topic));

    [Theory]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData(".a")]
    [InlineData("a.")]
    [InlineData(">.a")]
    [InlineData("a.>.b")]
    [InlineData("a*")]
    [InlineData("a.b>")]
    [InlineData("a b")]
    [InlineData("ä")]
    [InlineData("a/b")]
    public void TryParse_RejectsInvalidPatterns_WithAReason(string pattern)
    {
        Assert.Null(TopicPattern.TryParse(pattern, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TryParse_RejectsPatternsOver255Characters()
    {
        Assert.NotNull(TopicPattern.TryParse(new string('a', 255), out _));
        Assert.Null(TopicPattern.TryParse(new string('a', 256), out var error));
        Assert.Contains("255", error, StringComparison.Ordinal);
    }
}
