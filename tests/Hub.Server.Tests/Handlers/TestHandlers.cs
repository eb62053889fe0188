using Hub.Server.Handlers;

namespace Hub.Server.Tests.Handlers;

/// <summary>Records every batch at once.</summary>
public sealed class FastHandler(HandlerProbes probes) : IEventHandler
{
    public const string Name = "fast";

    public Task HandleAsync(IReadOnlyList<HubEvent> batch, CancellationToken cancellationToken)
    {
        probes[Name].Called(batch);
        probes[Name].Completed(batch);
        return Task.CompletedTask;
    }
}

/// <summary>Takes 200 ms over each batch.</summary>
public sealed class SlowHandler(HandlerProbes probes) : IEventHandler
{
    public const string Name = "slow";

    public async Task HandleAsync(IReadOnlyList<HubEvent> batch, CancellationToken cancellationToken)
    {
        probes[Name].Called(batch);
        await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        probes[Name].Completed(batch);
    }
}

/// <summary>Throws on every batch that holds an event whose data is <c>{"poison": true}</c>.</summary>
public sealed class PoisonHandler(HandlerProbes probes) : IEventHandler
{
    public const string Name = "poison";

    public Task HandleAsync(IReadOnlyList<HubEvent> batch, CancellationToken cancellationToken)
    {
        probes[Name].Called(batch);
        if (batch.FirstOrDefault(static e => e.DataAs<Payload>()?.Poison == true) is { } poison)
        {
            throw new InvalidOperationException($"cannot handle event {poison.Sequence}");
        }

        probes[Name].Completed(batch);
        return Task.CompletedTask;
    }

    public sealed record Payload(int N, bool Poison);
}

/// <summary>Holds every call until the test opens it.</summary>
public sealed class HandlerGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Opened => _open.Task;

    public void Open() => _open.TrySetResult();
}

/// <summary>Records each call, then waits for the gate before completing it.</summary>
public sealed class GatedHandler(HandlerProbes probes, HandlerGate gate) : IEventHandler
{
    public const string Name = "gated";

    public async Task HandleAsync(IReadOnlyList<HubEvent> batch, CancellationToken cancellationToken)
    {
        probes[Name].Called(batch);
        await gate.Opened.WaitAsync(cancellationToken);
        probes[Name].Completed(batch);
    }
}
