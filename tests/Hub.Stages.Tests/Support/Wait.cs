namespace Hub.Stages.Tests.Support;

/// <summary>Awaits conditions with a timeout; never a sleep standing in for a condition.</summary>
internal static class Wait
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static async Task Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Yield();
            await Task.Delay(2);
        }
    }

    public static async Task<T> For<T>(Task<T> task) => await task.WaitAsync(Timeout);

    public static async Task For(Task task) => await task.WaitAsync(Timeout);

    /// <summary>Waits until each stage has handled every message already in its mailbox, in the order given.</summary>
    public static async Task Flush(params Stage[] stages)
    {
        foreach (var stage in stages)
        {
            await stage.InvokeAsync(() => { }).WaitAsync(Timeout);
        }
    }
}
