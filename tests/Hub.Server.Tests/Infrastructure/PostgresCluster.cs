using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster started by <c>tests/postgres.sh</c> (a throwaway one, in a temp dir, on 127.0.0.1): the one
/// test.sh starts for every test (<see cref="Shared"/>, from the <c>HUB_TEST_POSTGRES*</c> variables), or one of a test's
/// own (<see cref="StartOwnAsync"/>), which the test may stop and start under load without disturbing the others.
/// </summary>
/// <remarks>
/// A test that needs PostgreSQL and finds no <c>HUB_TEST_POSTGRES</c> fails, naming the variable and how to set it: a
/// test skipped for lack of a server is a failure of the test script, not a pass.
/// </remarks>
public sealed partial class PostgresCluster : IAsyncDisposable
{
    /// <summary>The connection string (Npgsql syntax) of the shared cluster's <c>postgres</c> database, as superuser.</summary>
    public const string ConnectionVariable = "HUB_TEST_POSTGRES";

    /// <summary>The shared cluster's data dir.</summary>
    public const string DataVariable = "HUB_TEST_POSTGRES_DATA";

    /// <summary>The <c>pg_ctl</c> to stop and start it with.</summary>
    public const string PgCtlVariable = "HUB_TEST_POSTGRES_PG_CTL";

    /// <summary>The OS user that owns the cluster (its server refuses to run as root).</summary>
    public const string OsUserVariable = "HUB_TEST_POSTGRES_OS_USER";

    /// <summary>tests/postgres.sh, by its absolute path.</summary>
    public const string ScriptVariable = "HUB_TEST_POSTGRES_SCRIPT";

    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(3);
    private static readonly Lazy<PostgresCluster> SharedCluster = new(() => new PostgresCluster(FromEnvironment(), owned: false));
    private readonly IReadOnlyDictionary<string, string> _variables;
    private readonly bool _owned;

    private PostgresCluster(IReadOnlyDictionary<string, string> variables, bool owned)
    {
        _variables = variables;
        _owned = owned;
    }

    /// <summary>The cluster test.sh started (throws, naming the variable, when it did not).</summary>
    public static PostgresCluster Shared => SharedCluster.Value;

    /// <summary>The connection string of its <c>postgres</c> database, as superuser (Npgsql syntax).</summary>
    public string ConnectionString => _variables[ConnectionVariable];

    /// <summary>Its data dir.</summary>
    public string DataDirectory => _variables[DataVariable];

    /// <summary>
    /// Starts a cluster of the caller's own (a new temp dir, a free port), for a test that stops and starts PostgreSQL:
    /// disposing it stops it and removes its dir. About a few seconds.
    /// </summary>
    public static async Task<PostgresCluster> StartOwnAsync()
    {
        var script = FromEnvironment()[ScriptVariable];
        var output = await RunScriptAsync(script, "start", environment: null);
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match match in ExportLine().Matches(output))
        {
            variables[match.Groups[1].Value] = match.Groups[2].Value;
        }

        foreach (var name in new[] { ConnectionVariable, DataVariable, PgCtlVariable, OsUserVariable })
        {
            if (!variables.ContainsKey(name))
            {
                throw new InvalidOperationException($"tests/postgres.sh start printed no {name}:\n{output}");
            }
        }

        variables[ScriptVariable] = script;
        return new PostgresCluster(variables, owned: true);
    }

    /// <summary>Stops the server at once (<c>pg_ctl -m immediate</c>, as a crash would), keeping its data.</summary>
    public Task StopAsync() => RunScriptAsync(_variables[ScriptVariable], "pause", _variables);

    /// <summary>Starts the stopped server again, on the same port and data.</summary>
    public Task StartAsync() => RunScriptAsync(_variables[ScriptVariable], "resume", _variables);

    /// <summary>A new database of its own on this cluster, dropped when disposed.</summary>
    public Task<PostgresDatabase> CreateDatabaseAsync() => PostgresDatabase.CreateAsync(ConnectionString);

    /// <summary>Stops and removes a cluster of the test's own; the shared one is test.sh's to stop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_owned)
        {
            await RunScriptAsync(_variables[ScriptVariable], "stop", _variables);
        }
    }

    private static Dictionary<string, string> FromEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in new[] { ConnectionVariable, DataVariable, PgCtlVariable, OsUserVariable, ScriptVariable })
        {
            var value = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(value))
            {
                throw new InvalidOperationException(
                    $"{name} is not set: the PostgreSQL tests need the cluster tests/postgres.sh starts. Run ./test.sh, or " +
                    "`eval \"$(tests/postgres.sh start)\"` before `dotnet test` (and `tests/postgres.sh stop` after).");
            }

            variables[name] = value;
        }

        return variables;
    }

    private static async Task<string> RunScriptAsync(string script, string command, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(command);
        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start bash {script}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tests/postgres.sh {command} did not finish within {ScriptTimeout}:\n{await stderr}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tests/postgres.sh {command} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }

        return await stdout;
    }

    [GeneratedRegex("^export (HUB_TEST_POSTGRES[A-Z_]*)='([^']*)'$", RegexOptions.Multiline)]
    private static partial Regex ExportLine();
}
