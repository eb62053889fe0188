using System.Diagnostics.Metrics;
using Hub.Log;
using Hub.Server.Telemetry;
using Microsoft.Extensions.Hosting;

namespace Hub.Server.Subscriptions;

/// <summary>
/// The observable gauges of the <c>Hub</c> meter that read the hub's live state when they are collected: connections,
/// subscriptions, lag and credits, and the log's size. They read the delivery layer's <see cref="DeliverySnapshot"/>,
/// which <c>GET /api/subscriptions</c> and the dashboard read too, so the three always agree. Cardinality is bounded:
/// totals and the maximum, plus the <see cref="TopLaggards"/> most lagging subscriptions by id.
/// </summary>
internal sealed class DeliveryGauges : IHostedService
{
    /// <summary>How many of the most lagging subscriptions are reported by id.</summary>
    public const int TopLaggards = 5;

    public DeliveryGauges(IMeterFactory meterFactory, SubscriptionRegistry registry, IEventLog log)
    {
        var meter = meterFactory.Create(HubMetrics.MeterName);
        meter.CreateObservableUpDownCounter("hub.connections", () => (long)registry.ConnectionCount, "{connection}", "Open SignalR connections to the events hub.");
        meter.CreateObservableUpDownCounter("hub.subscriptions", () => (long)registry.Count, "{subscription}", "Live subscriptions.");
        meter.CreateObservableGauge("hub.subscriptions.lag.total", () => Sum(registry, static s => s.Lag), "{event}", "Log positions between each subscription's cursor and the head, summed.");
        meter.CreateObservableGauge("hub.subscriptions.lag.max", () => Max(registry, static s => s.Lag), "{event}", "The largest lag of any subscription.");
        meter.CreateObservableGauge("hub.subscriptions.credits.total", () => Sum(registry, static s => s.Credits), "{event}", "Credits held by all subscriptions: how many more events the hub may send now.");
        meter.CreateObservableGauge("hub.subscription.lag", () => Top(registry, static s => s.Lag), "{event}", $"The lag of the {TopLaggards} most lagging subscriptions, by subscription id.");
        meter.CreateObservableGauge("hub.subscription.credits", () => Top(registry, static s => s.Credits), "{event}", $"The credits of the {TopLaggards} most lagging subscriptions, by subscription id.");
        meter.CreateObservableUpDownCounter("hub.log.events", () => Math.Max(0, log.Head - log.FirstRetained + 1), "{event}", "Events the log retains.");
        meter.CreateObservableCounter("hub.log.head", () => log.Head, "{sequence}", "The sequence of the newest event in the log.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static long Sum(SubscriptionRegistry registry, Func<SubscriptionInfo, long> figure) =>
        registry.Snapshot().Subscriptions.Sum(figure);

    private static long Max(SubscriptionRegistry registry, Func<SubscriptionInfo, long> figure) =>
        registry.Snapshot().Subscriptions.Select(figure).DefaultIfEmpty(0).Max();

    // The snapshot lists the laggards first: the first few are the ones to watch.
    private static IEnumerable<Measurement<long>> Top(SubscriptionRegistry registry, Func<SubscriptionInfo, long> figure) =>
        registry.Snapshot().Subscriptions
            .Take(TopLaggards)
            .Select(s => new Measurement<long>(figure(s), new KeyValuePair<string, object?>("hub.subscription.id", s.Id)))
            .ToArray();
}
