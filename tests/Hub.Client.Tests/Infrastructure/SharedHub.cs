namespace Hub.Client.Tests.Infrastructure;

/// <summary>One hub process for the tests that do not stop it; each test uses its own topics.</summary>
public sealed class SharedHub : IAsyncLifetime
{
    private static int s_topics;

    public RunningHub Hub { get; private set; } = null!;

    /// <summary>A topic no other test uses.</summary>
    public static string UniqueTopic(string name) => $"t{Interlocked.Increment(ref s_topics)}.{name}";

    public async Task InitializeAsync() => Hub = await RunningHub.StartAsync();

    public async Task DisposeAsync() => await Hub.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SharedHubCollection : ICollectionFixture<SharedHub>
{
    public const string Name = "shared hub";
}
