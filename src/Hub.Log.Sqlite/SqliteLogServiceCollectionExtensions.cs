using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Log.Sqlite;

/// <summary>Registers the SQLite engine (<c>"Hub:Log:Kind": "Sqlite"</c>, the default).</summary>
public static class SqliteLogServiceCollectionExtensions
{
    /// <summary>
    /// The log in one SQLite file (<c>Hub:Log:Sqlite</c>), a relative path resolved against the host's content root; the
    /// node keeps <c>Hub:Log:Sqlite:TailEvents</c> recent entries in memory.
    /// </summary>
    public static IServiceCollection AddSqliteLog(this IServiceCollection services) =>
        services.AddEventStore(
            sp => new SqliteEventLog(
                sp.GetRequiredService<IOptions<EventLogOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<SqliteEventLog>>(),
                sp.GetService<IHostEnvironment>()?.ContentRootPath),
            SqliteEventLog.TailCapacity);
}
