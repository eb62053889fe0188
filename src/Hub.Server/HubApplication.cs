using Hub.Server.OpenApi;

namespace Hub.Server;

/// <summary>
/// Builds the hub's web application, the same for <c>dotnet run</c>, the container and the tests: the library
/// (<c>AddHub</c>, <c>UseHub</c>, <c>MapHub</c> from Hub.AspNetCore) with the repository's configuration and pages.
/// </summary>
public static class HubApplication
{
    /// <summary>Where the hub listens when nothing else is configured.</summary>
    public const string DefaultUrl = "http://localhost:5080";

    /// <summary>
    /// Creates the application. The content root is the binaries' folder, where the build copies the repository's
    /// top-level <c>appsettings.json</c> and <c>wwwroot/</c>.
    /// </summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });

        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        if (HubOpenApi.IsGeneratingDocument)
        {
            // The build runs this entry point to write the OpenAPI document (Microsoft.Extensions.ApiDescription.Server):
            // the document needs no log, so none is opened on disk (no data/hub.db next to the build output).
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Hub:Log:Kind"] = "Memory",
                ["Hub:Log:Retention:MaxEvents"] = "1",
            });
        }

        builder.Services.AddHub(builder.Configuration);
        configure?.Invoke(builder);

        var app = builder.Build();

        // Open the log now, so a bad setting stops the start with its message rather than failing the first request.
        _ = app.Services.GetRequiredService<Hub.Log.IEventLog>();
        app.UseHub();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapHub();

        return app;
    }
}
