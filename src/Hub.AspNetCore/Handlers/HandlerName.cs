namespace Hub.Server.Handlers;

/// <summary>
/// A handler's name: 1 to <see cref="MaxLength"/> characters of <c>[A-Za-z0-9_-]</c>, one topic segment, so that its
/// dead-letter topic <c>hub.deadletter.NAME</c> is always a valid topic and <c>hub.deadletter.*</c> matches every
/// handler's. (A group name may also hold dots; a handler's may not, for that reason.)
/// </summary>
internal static class HandlerName
{
    /// <summary>The longest name.</summary>
    public const int MaxLength = 128;

    public static bool IsValid(string? name) =>
        name is { Length: > 0 and <= MaxLength } && name.All(static c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>The id of the handler's stage in the hub (<c>GET /api/subscriptions</c>' <c>id</c>).</summary>
    public static string StageId(string name) => "handler:" + name;

    /// <summary>The key of its position in the log's store: the name with an identity no group has (a group's is 32 hex
    /// digits), so a handler and a group of the same name never share a position.</summary>
    public static Log.GroupKey PositionKey(string name) => new(name, "handler");
}
