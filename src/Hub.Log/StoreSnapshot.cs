namespace Hub.Log;

/// <summary>What a store answers when its node attaches: its head and topic counters at one instant (one read
/// transaction), so that the node, counting every entry the feed brings after <paramref name="Head"/>, never counts one
/// twice nor misses one.</summary>
/// <param name="Head">The store's last committed sequence (0 before the first).</param>
/// <param name="Topics">The topic counters as the store keeps them, up to <paramref name="Head"/>.</param>
public readonly record struct StoreSnapshot(long Head, IReadOnlyList<TopicStats> Topics);
