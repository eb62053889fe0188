using Hub.Server.Api;
using Hub.Server.Dashboard;
using Hub.Server.Hubs;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Hub.Server;

/// <summary>Maps the hub's public surface, as CONTRACT.md fixes it.</summary>
public static class HubEndpointRouteBuilderExtensions
{
    /// <summary>Maps the REST API, the SignalR hub and the health endpoints.</summary>
    public static IEndpointRouteBuilder MapHub(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").WithTags("Hub");

        api.MapPost("/events", EventsEndpoints.PublishAsync)
            .WithName("PublishEvents")
            .WithSummary("Publish one event or a batch")
            .WithDescription("Appends one event object or an array of them, all or nothing, and answers 202 with each event's sequence once the log holds them.")
            // The body's schema (an event or an array of them) is set by PublishBodyFilter: declaring it with Accepts()
            // would let routing answer 415 itself, without naming the field.
            .Produces<PublishResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();

        api.MapGet("/events", EventsEndpoints.ReadAsync)
            .WithName("ReadEvents")
            .WithSummary("Read the log after a sequence")
            .WithDescription("Reads up to `limit` events after sequence `after` whose topic matches the pattern `topic` (default `>`, every topic).")
            .Produces<EventsPage>()
            .ProducesValidationProblem();

        api.MapGet("/topics", SubscriptionsEndpoints.ListTopics)
            .WithName("ListTopics")
            .WithSummary("The topics seen, with counts and last sequences");

        api.MapGet("/subscriptions", SubscriptionsEndpoints.ListSubscriptions)
            .WithName("ListSubscriptions")
            .WithSummary("The live subscriptions and their demand windows, the laggards first");

        api.MapGet("/groups", SubscriptionsEndpoints.ListGroups)
            .WithName("ListGroups")
            .WithSummary("The live groups: members, acknowledged position and lag, the laggards first");

        api.MapDelete("/subscriptions/{id}", SubscriptionsEndpoints.Delete)
            .WithName("DeleteSubscription")
            .WithSummary("End a subscription; its client is told with `ended`");

        endpoints.MapHub<EventsHub>(EventsHub.Path);
        endpoints.MapHub<DashboardHub>(DashboardHub.Path);

        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).WithName("Live");
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).WithName("Ready");
        return endpoints;
    }
}
