namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A test class's own temporary directory (the working directory and database files of the hub processes it starts)
/// and the processes started in it; disposing it kills those processes, by their ids, then removes the directory.
/// </summary>
public sealed class HubWorkspace : IAsyncDisposable
{
    private readonly List<HubProcess> _processes = [];

    /// <param name="prefix">The start of the directory's name, e.g. <c>hub-durability-</c>.</param>
    public HubWorkspace(string prefix)
    {
        Directory = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The directory.</summary>
    public string Directory { get; }

    /// <summary>The default database file in it.</summary>
    public string DatabasePath => Path.Combine(Directory, "hub.db");

    /// <summary>Starts a hub process in the directory (see <see cref="HubProcess.StartAsync"/>); it is disposed with the workspace.
    /// <paramref name="serverDll"/> is the app to run (default Hub.Server.dll).</summary>
    public async Task<HubProcess> StartAsync(IReadOnlyDictionary<string, string> settings, TimeSpan timeout, string? serverDll = null)
    {
        var hub = await HubProcess.StartAsync(Directory, settings, timeout, serverDll);
        lock (_processes)
        {
            // Several may start at once (the nodes of a multi-node test).
            _processes.Add(hub);
        }

        return hub;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
