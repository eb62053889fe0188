using System.Diagnostics.Metrics;
using Hub.Server.Tests.Infrastructure;
using Hub.Server.Subscriptions;
using Hub.Server.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Server.Tests.Subscriptions;

/// <summary>
/// The <c>Hub</c> meter's gauges read the same figures <c>GET /api/subscriptions</c> shows, with bounded cardinality
/// (totals, the maximum, and the few most lagging subscriptions by id), and the latency histogram gets one measurement
/// per delivered event. Only this hub's instruments are listened to (by its meter factory), so other tests' hubs do
/// not count.
/// </summary>
public sealed class DeliveryGaugesTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Gauges_AgreeWithTheSubscriptionsApi_AndReportOnlyTheTopLaggardsById()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:Kind"] = "Memory" });
        using var recorder = new Recorder(hub.Services.GetRequiredService<IMeterFactory>());
        await using var client = await hub.ConnectAsync();

        // Seven subscriptions granted 0..6 credits of the 10 events to come: their lags are 10 down to 4.
        var subscriptions = new List<SubscriptionLog>();
        for (var i = 0; i < 7; i++)
        {
            var subscription = await client.SubscribeAsync(new SubscribeArgs(["lag"], MaxDemand: 10, Demand: "manual"));
            if (i > 0)
            {
                await client.AskAsync(subscription, i);
            }

            subscriptions.Add(subscription);
        }

        await hub.PublishManyAsync("lag", 10);
        for (var i = 1; i < 7; i++)
        {
            await subscriptions[i].WaitForCountAsync(i, Deadline);
        }

        await Eventually.TrueAsync(async () => (await hub.GetSubscriptionsAsync()).All(s => s.GetProperty("buffered").GetInt32() == 0), "writes completed", Deadline);
        var listed = await hub.GetSubscriptionsAsync();
        recorder.Collect();

        Assert.Equal(listed.Sum(s => s.GetProperty("lag").GetInt64()), recorder.Single("hub.subscriptions.lag.total"));
        Assert.Equal(listed.Max(s => s.GetProperty("lag").GetInt64()), recorder.Single("hub.subscriptions.lag.max"));
        Assert.Equal(listed.Sum(s => s.GetProperty("credits").GetInt64()), recorder.Single("hub.subscriptions.credits.total"));
        Assert.Equal(7, recorder.Single("hub.subscriptions"));
        Assert.Equal(1, recorder.Single("hub.connections"));
        Assert.Equal(10, recorder.Single("hub.log.events"));

        var lagById = recorder.ById("hub.subscription.lag");
        var expected = listed.Take(DeliveryGauges.TopLaggards).ToDictionary(s => s.GetProperty("id").GetString()!, s => s.GetProperty("lag").GetInt64());
        Assert.Equal(DeliveryGauges.TopLaggards, lagById.Count);
        Assert.Equal(expected.OrderBy(p => p.Key), lagById.OrderBy(p => p.Key));
        Assert.Equal([10L, 9, 8, 7, 6], lagById.Values.OrderDescending());
        var creditsById = recorder.ById("hub.subscription.credits");
        Assert.Equal(expected.Keys.Order(), creditsById.Keys.Order());
        Assert.All(listed.Take(DeliveryGauges.TopLaggards), s => Assert.Equal(s.GetProperty("credits").GetInt64(), creditsById[s.GetProperty("id").GetString()!]));

        // One latency measurement per delivered event (1 + 2 + … + 6), none negative.
        Assert.Equal(21, recorder.Latencies.Count);
        Assert.All(recorder.Latencies, l => Assert.True(l >= 0, $"latency {l}"));
    }

    /// <summary>Listens to the <c>Hub</c> meter of one hub (by its meter factory).</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Lock _gate = new();
        private readonly List<(string Name, long Value, string? Id)> _values = [];
        private readonly List<double> _latencies = [];

        public Recorder(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == HubMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                string? id = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "hub.subscription.id")
                    {
                        id = (string?)tag.Value;
                    }
                }

                lock (_gate)
                {
                    _values.Add((instrument.Name, value, id));
                }
            });
            _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
            {
                lock (_gate)
                {
                    _latencies.Add(value);
                }
            });
            _listener.Start();
        }

        public IReadOnlyList<double> Latencies
        {
            get
            {
                lock (_gate)
                {
                    return [.. _latencies];
                }
            }
        }

        public void Collect()
        {
            lock (_gate)
            {
                _values.Clear();
            }

            _listener.RecordObservableInstruments();
        }

        public long Single(string name)
        {
            lock (_gate)
            {
                var found = _values.Where(v => v.Name == name).ToList();
                Assert.True(found.Count == 1, $"{name}: {found.Count} values among {string.Join(", ", _values.Select(v => v.Name).Distinct())}");
                return found[0].Value;
            }
        }

        public Dictionary<string, long> ById(string name)
        {
            lock (_gate)
            {
                return _values.Where(v => v.Name == name).ToDictionary(v => v.Id!, v => v.Value);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
