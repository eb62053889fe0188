using Hub;
using Hub.Server;
using Hub.Server.Health;
using Microsoft.Extensions.Options;

if (args is [HealthProbe.Argument, var url])
{
    // The container's HEALTHCHECK: ask the running hub, do not start one.
    return await HealthProbe.RunAsync(url);
}

try
{
    await HubApplication.Create(args).RunAsync();
    return 0;
}
catch (Exception ex) when (ex is HubStartupException or OptionsValidationException)
{
    // A setting the hub cannot work with: say which, plainly, and stop.
    Console.Error.WriteLine($"Hub cannot start: {ex.Message}");
    return 2;
}

/// <summary>The entry point, visible to tests.</summary>
public partial class Program;
