using System.Net.Http.Headers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Hub.Server;
using Hub.Log;
using Hub.Log.Postgres;
using Hub.Log.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Benchmarks;

/// <summary>
/// Ingest: events of about 200 bytes published in batches of 1, 100 or 1000 by 8 concurrent publishers, into the
/// SQLite log (durable: WAL, synchronous FULL, group commit), the PostgreSQL log (a database of its own on the server
/// <c>HUB_BENCH_POSTGRES</c> names: start one with <c>eval "$(tests/postgres.sh start --durable)"</c>, fsync on) or the
/// memory log, either straight into the log or over HTTP (<c>POST /api/events</c> on Kestrel at 127.0.0.1). One
/// operation is one event accepted.
/// </summary>
[MemoryDiagnoser]
public class IngestBenchmarks
{
    private const int Publishers = 8;
    private string _directory = null!;
    private IEventLog? _log;
    private WebApplication? _hub;
    private HttpClient? _http;
    private EventDraft[] _drafts = null!;
    private byte[] _body = null!;
    private string? _database; // the PostgreSQL database this run made, dropped after it

    [Params("Sqlite", "Postgres", "Memory")]
    public string Kind { get; set; } = "Sqlite";

    [Params(1, 100, 1000)]
    public int Batch { get; set; }

    [Params("Log", "Http")]
    public string Via { get; set; } = "Log";

    /// <summary>Events per invocation: fewer for single-event batches, which are bound by commits, not bytes.</summary>
    public int Events => Batch == 1 ? 2_000 : 40_000;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("hub-ingest-").FullName;
        var dataJson = "{\"order\":12345,\"customer\":\"c-0042\",\"total\":99.5,\"items\":[\"sku-1\",\"sku-2\"],\"note\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
        var draftBody = Encoding.UTF8.GetBytes($"{{\"topic\":\"orders.eu.created\",\"type\":\"order.created\",\"id\":null,\"key\":null,\"time\":\"2026-11-22T00:00:00Z\",\"data\":{dataJson},\"headers\":null}}");
        _drafts = Enumerable.Range(0, Batch).Select(_ => new EventDraft("orders.eu.created", "order.created", null, null, DateTimeOffset.UtcNow, draftBody)).ToArray();
        _body = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat($"{{\"topic\":\"orders.eu.created\",\"type\":\"order.created\",\"data\":{dataJson}}}", Batch)) + "]");
        var settings = new Dictionary<string, string?>
        {
            ["Hub:Log:Kind"] = Kind,
            ["Hub:Log:Sqlite:Path"] = Path.Combine(_directory, "hub.db"),
            ["Hub:Log:Retention:MaxEvents"] = "2000000",
            ["Hub:Log:Sqlite:MaxPendingEvents"] = "1000000",
            ["Hub:Log:Postgres:MaxPendingEvents"] = "1000000",
        };
        if (Kind == "Postgres")
        {
            settings["Hub:Log:Postgres:ConnectionString"] = CreateDatabase();
        }

        if (Via == "Log")
        {
            var options = new EventLogOptions
            {
                Kind = Kind,
                Retention = { MaxEvents = 2_000_000 },
                Sqlite = { Path = settings["Hub:Log:Sqlite:Path"]!, MaxPendingEvents = 1_000_000 },
                Postgres = { ConnectionString = settings.GetValueOrDefault("Hub:Log:Postgres:ConnectionString"), MaxPendingEvents = 1_000_000 },
            };
            _log = Kind switch
            {
                "Memory" => new LogTail(new MemoryEventLog(Options.Create(options)), options, MemoryEventLog.TailCapacity(options)),
                "Postgres" => new LogTail(new PostgresEventLog(Options.Create(options), TimeProvider.System, NullLogger<PostgresEventLog>.Instance), options, PostgresEventLog.TailCapacity(options)),
                _ => new LogTail(new SqliteEventLog(Options.Create(options), TimeProvider.System, NullLogger<SqliteEventLog>.Instance), options, SqliteEventLog.TailCapacity(options)),
            };
            return;
        }

        // As arguments: the hub picks its log's engine (Hub:Log:Kind) while it registers its services.
        string[] args = ["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", "--environment", "Development", .. settings.Select(s => $"--{s.Key}={s.Value}")];
        _hub = HubApplication.Create(args);
        _hub.StartAsync().GetAwaiter().GetResult();
        var address = _hub.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _http = new HttpClient { BaseAddress = new Uri(address) };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _http?.Dispose();
        if (_hub is not null)
        {
            _hub.StopAsync().GetAwaiter().GetResult();
            _hub.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        if (_log is IAsyncDisposable disposable)
        {
            disposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        if (_database is not null)
        {
            RunOnServer($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
        }
    }

    /// <summary>A new database on the server <c>HUB_BENCH_POSTGRES</c> names; its connection string.</summary>
    private string CreateDatabase()
    {
        _database = "hub_bench_" + Guid.NewGuid().ToString("N");
        RunOnServer($"CREATE DATABASE {_database}");
        return new NpgsqlConnectionStringBuilder(Server) { Database = _database }.ConnectionString;
    }

    private static string Server => Environment.GetEnvironmentVariable("HUB_BENCH_POSTGRES") is { Length: > 0 } server ? server
        : throw new InvalidOperationException("HUB_BENCH_POSTGRES is not set: start a durable cluster with `eval \"$(tests/postgres.sh start --durable)\"` and export HUB_BENCH_POSTGRES=\"$HUB_TEST_POSTGRES\"");

    private static void RunOnServer(string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Server) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    [Benchmark]
    public async Task Publish()
    {
        var batches = Events / Batch;
        var next = 0;
        var publishers = new Task[Publishers];
        for (var p = 0; p < Publishers; p++)
        {
            publishers[p] = Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) <= batches)
                {
                    if (_log is not null)
                    {
                        await _log.AppendAsync(_drafts);
                    }
                    else
                    {
                        using var content = new ByteArrayContent(_body);
                        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                        using var response = await _http!.PostAsync("api/events", content);
                        if ((int)response.StatusCode != 202)
                        {
                            throw new InvalidOperationException($"publish answered {(int)response.StatusCode}");
                        }
                    }
                }
            });
        }

        await Task.WhenAll(publishers);
    }
}
