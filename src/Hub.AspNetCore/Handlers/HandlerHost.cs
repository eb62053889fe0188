using System.Diagnostics.Metrics;
using Hub.Log;
using Hub.Server.Limits;
using Hub.Server.Subscriptions;
using Hub.Server.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Server.Handlers;

/// <summary>
/// Starts each added handler's stage with the application, after its saved position (or, the first time, where
/// <c>StartFrom</c> says), and stops them at shutdown, saving their positions. The stages are the registry's, created by
/// <see cref="SubscriptionRegistry.CreateInProcess"/>: listed, shown and counted as subscriptions are (<c>kind: "handler"</c>).
/// Exports per handler <c>hub.handler.handled</c>, <c>hub.handler.failures</c> and <c>hub.handler.deadlettered</c>.
/// </summary>
internal sealed partial class HandlerHost : IHostedService
{
    private readonly IEnumerable<HandlerRegistration> _registrations;
    private readonly IOptionsMonitor<HandlerOptions> _options;
    private readonly IOptions<LimitsOptions> _limits;
    private readonly SubscriptionRegistry _registry;
    private readonly IEventLog _log;
    private readonly IServiceScopeFactory _scopes;
    private readonly IHubPublisher _publisher;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private volatile HandlerStage[] _stages = [];

    public HandlerHost(IEnumerable<HandlerRegistration> registrations, IOptionsMonitor<HandlerOptions> options, IOptions<LimitsOptions> limits, SubscriptionRegistry registry,
        IEventLog log, IServiceScopeFactory scopes, IHubPublisher publisher, TimeProvider time, ILoggerFactory loggers, HubMetrics metrics)
    {
        _registrations = registrations;
        _options = options;
        _limits = limits;
        _registry = registry;
        _log = log;
        _scopes = scopes;
        _publisher = publisher;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<HandlerHost>();
        if (metrics.Meter is { } meter)
        {
            meter.CreateObservableCounter("hub.handler.handled", () => Measure(static s => s.Handled), "{event}", "Events an in-process handler has handled, by handler.");
            meter.CreateObservableCounter("hub.handler.failures", () => Measure(static s => s.Failures), "{call}", "Calls of an in-process handler that threw (each is retried, or its events dead-lettered), by handler.");
            meter.CreateObservableCounter("hub.handler.deadlettered", () => Measure(static s => s.DeadLettered), "{event}", "Events an in-process handler gave up on after their attempts, by handler.");
        }
    }

    /// <summary>The running handlers' stages.</summary>
    public IReadOnlyList<HandlerStage> Stages => _stages;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = new List<HandlerStage>();
        foreach (var registration in _registrations)
        {
            started.Add(await StartAsync(registration).ConfigureAwait(false));
            _stages = [.. started];
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_stages.Select(s => s.StopAsync(cancellationToken)));

    private async Task<HandlerStage> StartAsync(HandlerRegistration registration)
    {
        var name = registration.Name;
        var options = _options.Get(name); // validated (OptionsValidationException naming the key otherwise)
        var request = HandlerOptionsValidator.CreateRequest(name, options, _limits.Value.MaxAsk);
        var key = HandlerName.PositionKey(name);
        var head = _log.Head;
        var stored = _log.GetGroupPosition(key);
        long position;
        if (stored is { } known && known.Acknowledged <= head)
        {
            position = known.Acknowledged;
        }
        else
        {
            if (stored is { } reset)
            {
                Log.LogReset(_logger, name, reset.Acknowledged, head);
            }

            position = options.StartFrom == HandlerStartFrom.Oldest ? Math.Min(head, _log.FirstRetained - 1) : head;
        }

        if (!_log.SaveGroupPosition(key, new GroupPosition(position, position)))
        {
            throw new HubStartupException($"Handler '{name}' cannot keep a position: the log keeps the most group and handler positions it may (Hub:Log:MaxGroupPositions).");
        }

        var stage = new HandlerStage(name, registration.HandlerType, options, request, position, _scopes, _publisher, _log, _time, _loggers.CreateLogger("Hub.Server.Handlers.Handler." + name));
        Subscription subscription;
        try
        {
            subscription = _registry.CreateInProcess(HandlerName.StageId(name), request, position, stage);
        }
        catch (InvalidOperationException ex)
        {
            throw new HubStartupException($"Handler '{name}' is added twice: each handler needs its own name.", ex);
        }

        await stage.StartAsync(subscription).ConfigureAwait(false);
        Log.Started(_logger, name, position, string.Join(", ", request.Topics));
        return stage;
    }

    private IEnumerable<Measurement<long>> Measure(Func<HandlerStage, long> read) =>
        _stages.Select(s => new Measurement<long>(read(s), new KeyValuePair<string, object?>("handler", s.Name)));

    private static partial class Log
    {
        [LoggerMessage(EventId = 7010, Level = LogLevel.Information, Message = "Handler {Handler} started after sequence {Position} on {Topics}")]
        public static partial void Started(ILogger logger, string handler, long position, string topics);

        [LoggerMessage(EventId = 7011, Level = LogLevel.Warning, Message = "Handler {Handler}'s saved position {Position} is beyond the log's head {Head}: the log was reset; it starts again as the first time")]
        public static partial void LogReset(ILogger logger, string handler, long position, long head);
    }
}
