namespace Hub.Server.OpenApi;

/// <summary>The OpenAPI document (Swashbuckle) at <c>/swagger/v1/swagger.json</c> and its UI at <c>/swagger</c>.</summary>
public static class HubOpenApi
{
    /// <summary>
    /// True when <c>dotnet-getdocument</c> (the build's OpenAPI document step) runs the app's entry point rather than a
    /// host that serves requests: its entry assembly is <c>GetDocument.Insider</c>.
    /// </summary>
    public static bool IsGeneratingDocument => System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name == "GetDocument.Insider";

    public static IServiceCollection AddHubOpenApi(this IServiceCollection services)
    {
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new() { Title = "Hub", Version = "v1", Description = "Publish events over REST; subscribers receive them over SignalR at /hubs/events, within their own demand windows." });
            o.SupportNonNullableReferenceTypes();
            o.NonNullableReferenceTypesAsRequired();
            o.OperationFilter<PublishBodyFilter>();
            o.OperationFilter<ResponsesFilter>();
            var xml = Path.Combine(AppContext.BaseDirectory, "Hub.AspNetCore.xml");
            if (File.Exists(xml))
            {
                o.IncludeXmlComments(xml);
            }
        });
        return services;
    }

    public static WebApplication UseHubOpenApi(this WebApplication app)
    {
        // Only on /swagger: a middleware that awaits the rest of the pipeline holds its state for as long as the request
        // runs, and a SignalR connection is one request (2 of them: ~0.5 KiB per connection, with the services they resolve).
        app.UseWhen(static context => context.Request.Path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase), swagger =>
        {
            swagger.UseSwagger();
            swagger.UseSwaggerUI(o =>
            {
                o.SwaggerEndpoint("/swagger/v1/swagger.json", "Hub v1");
                o.RoutePrefix = "swagger";
            });
        });
        return app;
    }
}
