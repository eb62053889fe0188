using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster of a test's own (Debian's <c>initdb</c> and <c>pg_ctl</c>, as <c>../shared/RECIPES.md</c>
/// says: trust authentication, 127.0.0.1 on a free port, its socket and data in a temporary folder, <c>fsync=off</c>), for
/// the tests that stop and start PostgreSQL under running hubs: stopping the cluster every other test shares would fail
/// them. Started as the <c>postgres</c> user when the tests run as root (PostgreSQL refuses root). It only ever signals
/// its own postmaster, through <c>pg_ctl</c> and its data folder, and removes the folder on dispose.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly string _directory;
    private readonly int _port;

    private PostgresCluster(string directory, int port)
    {
        _directory = directory;
        _port = port;
    }

    /// <summary>Npgsql's connection string to the cluster's <c>postgres</c> database.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres;Pooling=false";

    /// <summary>Whether the server is running (as this object knows it: started and not stopped since).</summary>
    public bool IsRunning { get; private set; }

    private string DataDirectory => Path.Combine(_directory, "data");

    private string LogFile => Path.Combine(_directory, "server.log");

    /// <summary>Creates a cluster in a fresh temporary folder and starts it.</summary>
    public static async Task<PostgresCluster> StartNewAsync()
    {
        var directory = Directory.CreateTempSubdirectory("hub-pg-").FullName;
        var cluster = new PostgresCluster(directory, FreePort());
        try
        {
            if (RunningAsRoot)
            {
                // The server runs as postgres: it must own its folder (and reach it through the temporary folder's parents).
                await RunAsync("chown", ["-R", "postgres:postgres", directory], asPostgres: false);
            }

            await RunAsync(Tool("initdb"), ["-D", cluster.DataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"], asPostgres: RunningAsRoot);
            await cluster.StartAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) on the same port and data, and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        var options = $"-p {_port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200";
        await RunAsync(Tool("pg_ctl"), ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", options, "start"], asPostgres: RunningAsRoot);
        IsRunning = true;
    }

    /// <summary>
    /// Stops the server at once (<c>pg_ctl -m immediate</c>: every session is cut as a crash would, no checkpoint), and
    /// waits until it has exited. What was committed is there when it starts again (crash recovery replays the WAL).
    /// </summary>
    public async Task StopAsync()
    {
        await RunAsync(Tool("pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "60", "stop"], asPostgres: RunningAsRoot);
        IsRunning = false;
    }

    /// <summary>The server's own log, for a failing test's message.</summary>
    public string ServerLog => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no server log)";

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (IsRunning)
            {
                await StopAsync();
            }
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static bool RunningAsRoot => Environment.UserName == "root";

    /// <summary>A PostgreSQL server program: on the PATH, else in Debian's versioned folder (the package does not put the
    /// server programs on the PATH).</summary>
    private static string Tool(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(folder, name)))
            {
                return Path.Combine(folder, name);
            }
        }

        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", name)).Where(File.Exists).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        return debian ?? throw new InvalidOperationException(
            $"PostgreSQL's {name} is not installed: ./test.sh installs Debian's postgresql package (apt-get install -y postgresql).");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var info = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", program })
            {
                info.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        // pg_ctl start leaves the server holding no handle of ours (its output goes to the log file), so these end.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(CommandTimeout);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await error}");
        }
    }
}
