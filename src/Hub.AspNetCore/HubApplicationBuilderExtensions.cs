using Hub.Server.Auth;
using Hub.Server.Limits;
using Hub.Server.OpenApi;

namespace Hub.Server;

/// <summary>The hub's middleware, for an app that hosts it: <c>app.UseHub()</c> before <c>app.MapHub()</c>.</summary>
public static class HubApplicationBuilderExtensions
{
    /// <summary>The key under <see cref="IApplicationBuilder.Properties"/> that says <see cref="UseHub"/> ran.</summary>
    internal const string MiddlewareAdded = "Hub.Server.MiddlewareAdded";

    /// <summary>
    /// Adds what the hub's endpoints rely on, in order: problem+json for unhandled errors and bare status codes, CORS
    /// (<c>Hub:Cors</c>), authentication and authorization (<c>Hub:Auth</c>), the publish rate limits (<c>Hub:Limits</c>; not
    /// in mode <c>None</c>, where nothing is limited)
    /// and the OpenAPI document with its UI (<c>/swagger</c>). Call it before <c>MapHub()</c>; an app's own middleware
    /// (static files, its own endpoints) goes after it.
    /// </summary>
    public static WebApplication UseHub(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors(CorsSettings.PolicyName);
        app.UseHubSecurity();
        if (HubSecurityExtensions.IsEnforced(app))
        {
            // In mode None no request has a credential, and a request without one is not limited: no limiter to run.
            app.UseHubLimits();
        }

        app.UseWebSockets();
        app.UseHubOpenApi();
        ((IApplicationBuilder)app).Properties[MiddlewareAdded] = true;
        return app;
    }
}
