using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Log.Postgres;

/// <summary>Registers the PostgreSQL engine (<c>"Hub:Log:Kind": "Postgres"</c>): several nodes on one database.</summary>
public static class PostgresLogServiceCollectionExtensions
{
    /// <summary>
    /// The log in PostgreSQL (<c>Hub:Log:Postgres:ConnectionString</c>); each node keeps <c>Hub:Log:Postgres:TailEvents</c>
    /// recent entries in memory.
    /// </summary>
    public static IServiceCollection AddPostgresLog(this IServiceCollection services) =>
        services.AddEventStore(
            sp => new PostgresEventLog(
                sp.GetRequiredService<IOptions<EventLogOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<PostgresEventLog>>()),
            PostgresEventLog.TailCapacity);
}
