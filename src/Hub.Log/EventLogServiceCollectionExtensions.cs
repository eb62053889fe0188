using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Log;

/// <summary>
/// Registers the log's engine, as SignalR registers its backplane: each engine's package has its own extension
/// (<see cref="AddMemoryLog"/>, <c>AddSqliteLog</c>, <c>AddPostgresLog</c>), and each funnels into
/// <see cref="AddEventStore"/>, which puts the one node side (<see cref="LogTail"/>) over the store and registers it as the
/// <see cref="IEventLog"/> the hub reads. The last engine registered wins. The options (<c>Hub:Log</c>,
/// <see cref="EventLogOptions"/>) are bound by the host.
/// </summary>
public static class EventLogServiceCollectionExtensions
{
    /// <summary>
    /// Registers <paramref name="createStore"/>'s store under a <see cref="LogTail"/> keeping
    /// <paramref name="tailCapacity"/> recent entries in memory: the one way an engine is registered.
    /// </summary>
    public static IServiceCollection AddEventStore(this IServiceCollection services, Func<IServiceProvider, IEventStore> createStore, Func<EventLogOptions, int> tailCapacity)
    {
        ArgumentNullException.ThrowIfNull(createStore);
        ArgumentNullException.ThrowIfNull(tailCapacity);
        services.TryAddSingleton(TimeProvider.System);
        services.RemoveAll<IEventLog>();
        services.AddSingleton<IEventLog>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<EventLogOptions>>().Value;
            return new LogTail(createStore(sp), options, tailCapacity(options), sp.GetService<ILogger<LogTail>>());
        });
        return services;
    }

    /// <summary>The log in memory (<c>"Hub:Log:Kind": "Memory"</c>): one process, nothing kept across a restart.</summary>
    public static IServiceCollection AddMemoryLog(this IServiceCollection services) =>
        services.AddEventStore(
            sp => new MemoryEventLog(sp.GetRequiredService<IOptions<EventLogOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<MemoryEventLog>>()),
            MemoryEventLog.TailCapacity);
}
