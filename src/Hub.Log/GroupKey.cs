namespace Hub.Log;

/// <summary>
/// Who a group is: its name and the fingerprint of what it reads (its topic set, type set and dispatch). Two groups
/// with one name and other topics are two groups, live and stored: one never starts from, moves or learns about the
/// other's position (as a NATS consumer belongs to its stream). Made by <c>SubscribeRequest.GroupKey</c>.
/// </summary>
/// <param name="Name">The name members give (<c>group</c>).</param>
/// <param name="Identity">32 hex digits: the first 16 bytes of a SHA-256 over the sorted topics, sorted types and dispatch.</param>
public readonly record struct GroupKey(string Name, string Identity);
