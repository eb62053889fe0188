using System.Globalization;

namespace Hub.LoadGen;

/// <summary>Reads a process's resident memory from <c>/proc/PID/status</c> (Linux): <c>VmRSS</c> now and
/// <c>VmHWM</c>, the peak the kernel has seen. Samples every 100 ms while running to keep a peak of its own too.</summary>
internal sealed class ServerMemory : IAsyncDisposable
{
    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    public ServerMemory(int pid)
    {
        _pid = pid;
        _sampling = pid > 0 ? Task.Run(SampleAsync) : Task.CompletedTask;
    }

    /// <summary>The largest VmRSS sampled, in KiB.</summary>
    public long PeakRssKb { get; private set; }

    /// <summary>(VmRSS, VmHWM) in KiB; (0, 0) when not measured or unreadable.</summary>
    public (long RssKb, long HwmKb) Read()
    {
        if (_pid <= 0)
        {
            return (0, 0);
        }

        long rss = 0, hwm = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ParseKb(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = ParseKb(line);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        if (rss > PeakRssKb)
        {
            PeakRssKb = rss;
        }

        return (rss, hwm);
    }

    private static long ParseKb(string line) =>
        long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            do
            {
                Read();
            }
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
