namespace Hub.LoadGen;

/// <summary>The events all publishers may still send (<see cref="LoadOptions.MaxEvents"/>; unlimited when 0).</summary>
internal sealed class EventBudget(long max)
{
    private long _left = max > 0 ? max : long.MaxValue;

    /// <summary>Takes up to <paramref name="wanted"/> events from the budget; 0 when it is spent.</summary>
    public int Take(int wanted)
    {
        while (true)
        {
            var left = Volatile.Read(ref _left);
            var take = (int)Math.Min(wanted, left);
            if (take == 0 || Interlocked.CompareExchange(ref _left, left - take, left) == left)
            {
                return take;
            }
        }
    }
}
