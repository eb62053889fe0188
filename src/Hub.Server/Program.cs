using Hub.Server;
using Microsoft.Extensions.Options;

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
