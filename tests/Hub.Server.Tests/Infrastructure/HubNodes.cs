namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// Several hub nodes on one PostgreSQL log: each a real <c>Hub.Server.dll</c> process (<see cref="HubProcess"/>) on
/// 127.0.0.1 and a free port, started with <c>--Hub:Log:Kind=Postgres</c> and <c>--Hub:Log:Postgres:ConnectionString=…</c>
/// as a deployment would configure them (they write no files: one <see cref="HubWorkspace"/> holds them all). They start
/// at the same time, as nodes behind a load balancer do, so the log's schema is created by whichever gets there first
/// while the others race it. Killed by their process ids on dispose.
/// </summary>
public sealed class HubNodes : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly HubWorkspace _workspace = new("hub-nodes-");
    private readonly HubProcess?[] _nodes;
    private readonly List<HttpClient> _clients = [];
    private readonly List<HubClient> _connections = [];

    private HubNodes(int count) => _nodes = new HubProcess?[count];

    /// <summary>The nodes' names in messages: A, B, C…</summary>
    public static string Name(int node) => ((char)('A' + node)).ToString();

    /// <summary>How many nodes were started.</summary>
    public int Count => _nodes.Length;

    /// <summary>Node <paramref name="node"/>'s process (0 is A).</summary>
    public HubProcess this[int node] => _nodes[node] ?? throw new InvalidOperationException($"node {Name(node)} is not running");

    /// <summary>The settings every node gets: the PostgreSQL log, plus <paramref name="extra"/>.</summary>
    public static Dictionary<string, string> Settings(string connectionString, IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Hub:Log:Kind"] = "Postgres",
            ["Hub:Log:Postgres:ConnectionString"] = connectionString,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Starts <paramref name="count"/> nodes at once on the database <paramref name="connectionString"/> names,
    /// and waits until each listens. If one fails to start, the others are killed and the failure names the node.</summary>
    public static async Task<HubNodes> StartAsync(string connectionString, int count, IReadOnlyDictionary<string, string>? settings = null)
    {
        var nodes = new HubNodes(count);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, count).Select(i => nodes.StartNodeAsync(i, connectionString, settings)));
            return nodes;
        }
        catch
        {
            await nodes.DisposeAsync();
            throw;
        }
    }

    /// <summary>A REST client for node <paramref name="node"/> (disposed with the nodes).</summary>
    public HttpClient Http(int node)
    {
        var client = new HttpClient { BaseAddress = this[node].Address, Timeout = TimeSpan.FromSeconds(60) };
        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>A hub connection (real WebSocket) to node <paramref name="node"/>, disposed with the nodes (or before, by
    /// the caller).</summary>
    public async Task<HubClient> ConnectAsync(int node)
    {
        var connection = await HubClient.ConnectAsync(this[node].Address);
        lock (_connections)
        {
            _connections.Add(connection);
        }

        return connection;
    }

    /// <summary>Every connection made with <see cref="ConnectAsync"/>, in order.</summary>
    public IReadOnlyList<HubClient> Connections
    {
        get
        {
            lock (_connections)
            {
                return [.. _connections];
            }
        }
    }

    /// <summary>Runs a test's body over these nodes: whatever it throws comes back as a <see cref="NodesFailedException"/>
    /// carrying the end of every node's output.</summary>
    public async Task CheckAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception ex) when (ex is not NodesFailedException)
        {
            throw new NodesFailedException(ex, this);
        }
    }

    /// <summary>Kills node <paramref name="node"/> with SIGKILL (a crash: nothing runs in it after) and waits for its exit.</summary>
    public async Task KillAsync(int node)
    {
        await this[node].KillAsync();
    }

    /// <summary>The end of every node's output (its last 8,000 characters), headed by its name, for a failing test's message.</summary>
    public string Output => string.Join("\n", _nodes.Select((n, i) =>
    {
        var output = n?.Output ?? "";
        return $"--- node {Name(i)} (pid {n?.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}) ---\n{(output.Length > 8000 ? "…" + output[^8000..] : output)}";
    }));

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in Connections)
        {
            await connection.DisposeAsync();
        }

        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        await _workspace.DisposeAsync();
    }

    private async Task StartNodeAsync(int node, string connectionString, IReadOnlyDictionary<string, string>? settings)
    {
        try
        {
            _nodes[node] = await _workspace.StartAsync(Settings(connectionString, settings), StartTimeout);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"node {Name(node)} did not start: {ex.Message}", ex);
        }
    }
}
