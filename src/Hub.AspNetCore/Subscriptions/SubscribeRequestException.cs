namespace Hub.Server.Subscriptions;

/// <summary>A <c>Subscribe</c> or <c>Ask</c> argument that is not valid; the message starts with the field's name.</summary>
public sealed class SubscribeRequestException(string field, string problem) : Exception($"{field}: {problem}")
{
    /// <summary>The field at fault, e.g. <c>maxDemand</c> or <c>topics[1]</c>.</summary>
    public string Field { get; } = field;
}
