namespace Hub.Server.OpenApi;

/// <summary>The OpenAPI document (Swashbuckle) at <c>/swagger/v1/swagger.json</c> and its UI at <c>/swagger</c>.</summary>
internal static class HubOpenApi
{
    public static IServiceCollection AddHubOpenApi(this IServiceCollection services)
    {
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new() { Title = "Hub", Version = "v1", Description = "Publish events over REST; subscribers receive them over SignalR at /hubs/events, within their own demand windows." });
            o.SupportNonNullableReferenceTypes();
            o.NonNullableReferenceTypesAsRequired();
            o.OperationFilter<PublishBodyFilter>();
            o.OperationFilter<ResponsesFilter>();
            var xml = Path.Combine(AppContext.BaseDirectory, "Hub.Server.xml");
            if (File.Exists(xml))
            {
                o.IncludeXmlComments(xml);
            }
        });
        return services;
    }

    public static WebApplication UseHubOpenApi(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "Hub v1");
            o.RoutePrefix = "swagger";
        });
        return app;
    }
}
