using Microsoft.Extensions.DependencyInjection;

namespace Hub.Log.Postgres;

/// <summary>Registers the PostgreSQL engine (<c>"Hub:Log:Kind": "Postgres"</c>): several nodes on one database.</summary>
public static class PostgresLogServiceCollectionExtensions
{
    /// <summary>The log in PostgreSQL (<c>Hub:Log:Postgres:ConnectionString</c>).</summary>
    public static IServiceCollection AddPostgresLog(this IServiceCollection services) =>
        services.AddEventStore(
            static _ => throw new HubStartupException("Hub:Log:Kind: the PostgreSQL engine is not built yet (set Hub:Log:Kind to Sqlite or Memory)"),
            static _ => LogTail.DefaultCapacity);
}
