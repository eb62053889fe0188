namespace Hub.Client;

/// <summary>An event to publish (CONTRACT.md: <c>{"topic","type","id","key","data","headers"}</c>; the hub fills the time).</summary>
/// <param name="Topic">Dot-separated segments of <c>[A-Za-z0-9_-]</c>, such as <c>orders.eu</c>.</param>
public sealed record NewEvent(string Topic)
{
    /// <summary>The event's type, such as <c>order.created</c>.</summary>
    public string? Type { get; init; }

    /// <summary>Makes the publish idempotent: the same <c>(topic, id)</c> within the dedup window appends nothing.</summary>
    public string? Id { get; init; }

    /// <summary>The partition key (groups with partition dispatch route by it).</summary>
    public string? Key { get; init; }

    /// <summary>The payload: any value System.Text.Json writes (camelCase names).</summary>
    public object? Data { get; init; }

    /// <summary>String metadata.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}
