using Hub.Server.Topics;

namespace Hub.Server.Tests.Topics;

public sealed class TopicPatternCoversTests
{
    [Theory]
    // literals
    [InlineData("orders.eu", "orders.eu", true)]
    [InlineData("orders.eu", "orders.us", false)]
    [InlineData("orders.eu", "orders", false)]
    [InlineData("orders.eu", "orders.eu.x", false)]
    [InlineData("orders", "orders.*", false)]
    [InlineData("orders.eu", "orders.*", false)]
    // '*' in the grant
    [InlineData("orders.*", "orders.eu", true)]
    [InlineData("orders.*", "orders.*", true)]
    [InlineData("orders.*", "orders.>", false)]
    [InlineData("orders.*", "orders.eu.x", false)]
    [InlineData("orders.*", "orders", false)]
    [InlineData("*.eu", "orders.eu", true)]
    [InlineData("*.eu", "*.eu", true)]
    [InlineData("*.eu", "*.*", false)]
    [InlineData("*.*", "orders.*", true)]
    [InlineData("*", ">", false)]
    // '>' in the grant
    [InlineData("orders.>", "orders.eu", true)]
    [InlineData("orders.>", "orders.eu.created", true)]
    [InlineData("orders.>", "orders.*", true)]
    [InlineData("orders.>", "orders.*.x", true)]
    [InlineData("orders.>", "orders.>", true)]
    [InlineData("orders.>", "orders.eu.>", true)]
    [InlineData("orders.>", "orders", false)]
    [InlineData("orders.>", ">", false)]
    [InlineData("orders.>", "*.eu", false)]
    [InlineData("orders.>", "*.>", false)]
    [InlineData("orders.>", "payments.>", false)]
    [InlineData(">", ">", true)]
    [InlineData(">", "*", true)]
    [InlineData(">", "a.b.c", true)]
    [InlineData(">", "*.>", true)]
    [InlineData("*.>", ">", false)]
    [InlineData("*.>", "*.>", true)]
    [InlineData("*.>", "a.b", true)]
    [InlineData("*.>", "a", false)]
    [InlineData("orders.*.>", "orders.>", false)]
    [InlineData("orders.*.>", "orders.eu.>", true)]
    [InlineData("orders.*.>", "orders.*.x", true)]
    [InlineData("orders.eu.>", "orders.*.x", false)]
    [InlineData("Orders.>", "orders.eu", false)]
    public void Covers_IsTrueExactlyWhenTheGrantMatchesEveryTopicTheRequestDoes(string grant, string requested, bool expected) =>
        Assert.Equal(expected, TopicPattern.Covers(TopicPattern.Parse(grant), TopicPattern.Parse(requested)));

    [Fact]
    public void Covers_AgreesWithMatching_OverEveryPatternAndTopicOfASmallAlphabet()
    {
        // Every pattern of 1 to 3 segments over {a, b, *} with or without a final '>', against every topic of 1 to 5
        // segments over {a, b, c}: a grant covers a request exactly when no topic matches the request but not the grant.
        string[] segments = ["a", "b", "*"];
        var patterns = new List<string>();
        foreach (var length in new[] { 1, 2, 3 })
        {
            foreach (var combination in Combinations(segments, length))
            {
                patterns.Add(combination);
                patterns.Add(combination + ".>");
            }
        }

        patterns.Add(">");
        var topics = Enumerable.Range(1, 5).SelectMany(n => Combinations(["a", "b", "c"], n)).ToArray();
        var compiled = patterns.Select(TopicPattern.Parse).ToArray();
        var checkedPairs = 0;
        foreach (var grant in compiled)
        {
            foreach (var requested in compiled)
            {
                var expected = topics.Where(requested.Matches).All(grant.Matches);
                Assert.True(expected == TopicPattern.Covers(grant, requested), $"Covers({grant}, {requested}) should be {expected}");
                checkedPairs++;
            }
        }

        Assert.Equal(patterns.Count * patterns.Count, checkedPairs);
    }

    private static IEnumerable<string> Combinations(string[] parts, int length) =>
        length == 1 ? parts : Combinations(parts, length - 1).SelectMany(prefix => parts.Select(p => prefix + "." + p));
}
