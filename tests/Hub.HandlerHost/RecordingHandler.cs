using Hub.Server.Handlers;

namespace HandlerApp;

/// <summary>
/// Records each batch it completes as lines of sequences, written and flushed in one write before it returns (a kill
/// after that keeps them: they are in the kernel's hands). A batch that holds an event of the hold key never completes:
/// it waits until the process is stopped or killed.
/// </summary>
public sealed class RecordingHandler(Recorder recorder) : IEventHandler
{
    public const string Name = "recorder";

    public async Task HandleAsync(IReadOnlyList<HubEvent> batch, CancellationToken cancellationToken)
    {
        if (recorder.HoldKey is { } hold && batch.Any(e => e.Key == hold))
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        recorder.Write(batch);
    }
}

/// <summary>The file a <see cref="RecordingHandler"/> appends to, one line per event handled.</summary>
public sealed class Recorder(string path, string? holdKey)
{
    private readonly Lock _gate = new();

    public string? HoldKey { get; } = holdKey;

    public void Write(IReadOnlyList<HubEvent> batch)
    {
        var lines = string.Concat(batch.Select(static e => $"{e.Sequence}\n"));
        lock (_gate)
        {
            using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            file.Write(System.Text.Encoding.UTF8.GetBytes(lines));
            file.Flush();
        }
    }
}
