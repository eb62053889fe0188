using Hub.Server.Topics;

namespace Hub.Server.Tests.Topics;

public sealed class TopicNameTests
{
    [Theory]
    [InlineData("orders")]
    [InlineData("orders.eu.created")]
    [InlineData("A-b_9.x")]
    public void Validate_AcceptsDotSeparatedSegments(string topic) => Assert.Null(TopicName.Validate(topic));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData("a.")]
    [InlineData(".a")]
    [InlineData("a.*")]
    [InlineData("a.>")]
    [InlineData("a b")]
    [InlineData("'; DROP TABLE events;--")]
    [InlineData("../../etc/passwd")]
    public void Validate_RejectsEverythingElse(string? topic) => Assert.NotNull(TopicName.Validate(topic));

    [Fact]
    public void Validate_LimitsTheLengthTo255() =>
        Assert.Equal((true, false), (TopicName.Validate(new string('a', 255)) is null, TopicName.Validate(new string('a', 256)) is null));
}
