namespace Hub.Log;

/// <summary>
/// The groups' stored positions as a log keeps them in memory, shared by every log (the SQLite log also writes them to
/// its file). Group names and topics are client input, so what is kept is bounded twice: a group's position is removed
/// once the group has been gone (no member) longer than the retention's <c>MaxAge</c> (<see cref="ExpireIfDue"/>), and a
/// group not stored yet is refused while <c>MaxGroupPositions</c> are kept (<see cref="TrySave"/>).
/// </summary>
internal sealed class GroupPositions(int max)
{
    private readonly Lock _gate = new();
    /// <summary>How often <see cref="ExpireIfDue"/> looks.</summary>
    public static readonly TimeSpan ExpiryInterval = TimeSpan.FromMinutes(1);

    private readonly Dictionary<GroupKey, Entry> _entries = []; // under _gate
    private DateTimeOffset _nextExpiry = DateTimeOffset.MinValue; // under _gate

    /// <summary>How many positions are kept.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The most positions kept.</summary>
    public int Max => max;

    public GroupPosition? Get(GroupKey group)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(group, out var entry) ? entry.Position : null;
        }
    }

    /// <summary>
    /// Keeps <paramref name="position"/> for <paramref name="group"/>; <paramref name="goneSince"/> is null while the group
    /// has members, else when its last member left. False, keeping nothing, when the group has no position yet and
    /// <see cref="Max"/> are kept.
    /// </summary>
    public bool TrySave(GroupKey group, GroupPosition position, DateTimeOffset? goneSince)
    {
        lock (_gate)
        {
            if (!_entries.ContainsKey(group) && _entries.Count >= max)
            {
                return false;
            }

            _entries[group] = new Entry(position, goneSince);
            return true;
        }
    }

    /// <summary>Keeps a position read from a store at start, whatever the bound (a store holds what it held).</summary>
    public void Load(GroupKey group, GroupPosition position, DateTimeOffset goneSince)
    {
        lock (_gate)
        {
            _entries[group] = new Entry(position, goneSince);
        }
    }

    /// <summary>
    /// Removes the positions of groups gone longer than <paramref name="maxAge"/> at <paramref name="now"/>, and returns
    /// their keys (for a store to delete); looks at most once per <see cref="ExpiryInterval"/>, so it is cheap to call
    /// often. A group with members (stored without a gone time) never expires.
    /// </summary>
    public IReadOnlyList<GroupKey> ExpireIfDue(DateTimeOffset now, TimeSpan maxAge)
    {
        lock (_gate)
        {
            if (now < _nextExpiry)
            {
                return [];
            }

            List<GroupKey> expired = [];
            _nextExpiry = now + ExpiryInterval;
            var cutoff = now - maxAge;
            foreach (var (group, entry) in _entries)
            {
                if (entry.GoneSince is { } gone && gone < cutoff)
                {
                    expired.Add(group);
                }
            }

            foreach (var group in expired)
            {
                _entries.Remove(group);
            }

            return expired;
        }
    }

    private readonly record struct Entry(GroupPosition Position, DateTimeOffset? GoneSince);
}
