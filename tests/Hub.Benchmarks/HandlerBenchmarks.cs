using BenchmarkDotNet.Attributes;
using Hub.Server;
using Hub.Server.Handlers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hub.Benchmarks;

/// <summary>
/// GenEvent's flaw measured: ten handlers of one event stream, one of them slow (1 ms per call, or per event), N events
/// published one at a time. <see cref="Sequential"/> is MediatR's default publisher: each publish awaits each handler in
/// turn, so the publisher, and every other handler, waits on the slow one. <see cref="HubHandlers"/> publishes the same
/// events with <see cref="IHubPublisher"/> (in-process, memory log) to ten <c>AddHandler</c> stages, and ends when all
/// ten have handled all N. One operation is N events handled by all ten.
/// </summary>
[MemoryDiagnoser]
public class HandlerBenchmarks
{
    /// <summary>Handlers in all, one of them slow.</summary>
    public const int Handlers = 10;

    /// <summary>What the slow handler costs per call (or per event, with <see cref="SlowPerEvent"/>).</summary>
    public static readonly TimeSpan SlowCost = TimeSpan.FromMilliseconds(1);

    private WebApplication _app = null!;
    private IHubPublisher _publisher = null!;
    private HandlerTally _tally = null!;
    private readonly SequentialHandler[] _sequential = new SequentialHandler[Handlers];

    /// <summary>Events per operation.</summary>
    [Params(1000)]
    public int Events { get; set; } = 1000;

    /// <summary>False: the slow handler costs 1 ms per call (a round trip that takes a batch); true: 1 ms per event.</summary>
    [Params(false, true)]
    public bool SlowPerEvent { get; set; }

    /// <summary>When the last publish returned, in the last <see cref="HubHandlers"/> run (from its start).</summary>
    public TimeSpan Published { get; private set; }

    /// <summary>When the nine fast handlers had handled everything, in the last <see cref="HubHandlers"/> run.</summary>
    public TimeSpan FastDone { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Hub:Log:Kind"] = "Memory",
            ["Hub:Log:Retention:MaxEvents"] = "1000000",
            ["Hub:Auth:Mode"] = "None", // in-process only: nobody connects
        });
        _tally = new HandlerTally(SlowPerEvent);
        builder.Services.AddSingleton(_tally);
        var hub = builder.Services.AddHub(builder.Configuration);
        hub.AddHandler<SlowBenchHandler>("slow", o => o.Topics.Add("bench.>"));
        for (var i = 1; i < Handlers; i++)
        {
            hub.AddHandler<FastBenchHandler>($"fast{i}", o => o.Topics.Add("bench.>"));
        }

        _app = builder.Build();
        _app.StartAsync().GetAwaiter().GetResult();
        _publisher = _app.Services.GetRequiredService<IHubPublisher>();
        for (var i = 0; i < Handlers; i++)
        {
            _sequential[i] = new SequentialHandler(slow: i == 0, SlowPerEvent);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>MediatR's default: each publish awaits each of the ten handlers in turn.</summary>
    [Benchmark(Baseline = true)]
    public async Task Sequential()
    {
        for (var i = 0; i < Events; i++)
        {
            var e = new NewEvent("bench.orders", i);
            foreach (var handler in _sequential)
            {
                await handler.HandleAsync(e);
            }
        }
    }

    /// <summary>Hub: publish each event in-process, then wait until all ten handlers have handled all of them.</summary>
    [Benchmark]
    public async Task HubHandlers()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var done = _tally.Expect(Events, Handlers - 1);
        for (var i = 0; i < Events; i++)
        {
            await _publisher.PublishAsync(new NewEvent("bench.orders", i));
        }

        Published = watch.Elapsed;
        await done.Fast;
        FastDone = watch.Elapsed;
        await done.All;
    }

    /// <summary>A MediatR-style notification handler: one event per call.</summary>
    private sealed class SequentialHandler(bool slow, bool perEvent)
    {
        private long _handled;

        public Task HandleAsync(NewEvent e)
        {
            _ = e;
            _handled++;
            return slow ? Task.Delay(SlowCost) : Task.CompletedTask;
        }

        public override string ToString() => $"{(slow ? "slow" : "fast")} ({(perEvent ? "per event" : "per call")}): {_handled}";
    }
}

/// <summary>Counts what the Hub handlers handled, and says when an operation's events are all in.</summary>
public sealed class HandlerTally(bool slowPerEvent)
{
    private long _fast;
    private long _slow;
    private long _fastTarget = long.MaxValue;
    private long _slowTarget = long.MaxValue;
    private TaskCompletionSource _fastDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _slowDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool SlowPerEvent => slowPerEvent;

    /// <summary>Expects <paramref name="events"/> more for the slow handler and for each of <paramref name="fast"/> fast ones.</summary>
    public (Task Fast, Task All) Expect(int events, int fast)
    {
        _fastDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _slowDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _fastTarget, Volatile.Read(ref _fast) + ((long)events * fast));
        Volatile.Write(ref _slowTarget, Volatile.Read(ref _slow) + events);
        Check();
        return (_fastDone.Task, Task.WhenAll(_fastDone.Task, _slowDone.Task));
    }

    public void Fast(int count)
    {
        Interlocked.Add(ref _fast, count);
        Check();
    }

    public void Slow(int count)
    {
        Interlocked.Add(ref _slow, count);
        Check();
    }

    private void Check()
    {
        if (Volatile.Read(ref _fast) >= Volatile.Read(ref _fastTarget))
        {
            _fastDone.TrySetResult();
        }

        if (Volatile.Read(ref _slow) >= Volatile.Read(ref _slowTarget))
        {
            _slowDone.TrySetResult();
        }
    }
}

/// <summary>Costs <see cref="HandlerBenchmarks.SlowCost"/> per call (or per event).</summary>
public sealed class SlowBenchHandler(HandlerTally tally) : IEventHandler
{
    public async Task HandleAsync(IReadOnlyList<HubEvent> batch, CancellationToken cancellationToken)
    {
        await Task.Delay(tally.SlowPerEvent ? HandlerBenchmarks.SlowCost * batch.Count : HandlerBenchmarks.SlowCost, cancellationToken);
        tally.Slow(batch.Count);
    }
}

/// <summary>Counts and returns.</summary>
public sealed class FastBenchHandler(HandlerTally tally) : IEventHandler
{
    public Task HandleAsync(IReadOnlyList<HubEvent> batch, CancellationToken cancellationToken)
    {
        tally.Fast(batch.Count);
        return Task.CompletedTask;
    }
}
