using Hub.Server;

await HubApplication.Create(args).RunAsync();

/// <summary>The entry point, visible to tests.</summary>
public partial class Program;
