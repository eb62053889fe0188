using Hub.Server.Api;
using Hub.Server.Auth;
using Hub.Server.Dashboard;
using Hub.Server.Hubs;
using Hub.Server.Limits;
using Hub.Server.OpenApi;
using Hub.Server.Subscriptions;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Hub.Server;

/// <summary>Maps the hub's public surface, as CONTRACT.md fixes it.</summary>
public static partial class HubEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the REST API, the SignalR hubs and the health endpoints. The app calls <c>app.UseHub()</c> first (the
    /// middleware they rely on: CORS, authentication, rate limits, problem+json); without it the hub still answers, and a
    /// warning at start says that its CORS policy and publish rate limits are off.
    /// </summary>
    public static IEndpointRouteBuilder MapHub(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints is IApplicationBuilder app && !app.Properties.ContainsKey(HubApplicationBuilderExtensions.MiddlewareAdded))
        {
            LogMiddlewareMissing(endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Hub.Server"));
        }

        var api = endpoints.MapGroup("/api").WithTags("Hub");

        // Every answer CONTRACT.md lists is declared, 401 and 403 included before authentication exists, so that
        // generated clients know them. Examples and Retry-After headers are added by OpenApi/ResponsesFilter.
        api.MapPost("/events", EventsEndpoints.PublishAsync)
            .WithName("PublishEvents")
            .WithSummary("Publish one event or a batch")
            .WithDescription("Appends one event object or an array of them (a batch), all or nothing, and answers 202 with each event's sequence once the log holds them (on disk, with the SQLite log). An event with an `id` is published once per `(topic, id)` within the dedup window; an `Idempotency-Key` header does the same for a whole request. A failed request appends nothing.")
            // The body's schema (an event or an array of them) is set by PublishBodyFilter: declaring it with Accepts()
            // would let routing answer 415 itself, without naming the field.
            .Answers<PublishResponse>(StatusCodes.Status202Accepted, "The events are in the log: one entry per event, in the order sent. A duplicate `(topic, id)` answers its first sequence with `duplicate: true`.")
            .AnswersValidationProblem("Malformed JSON or a bad field (`errors` names it, with the batch index: `[1].topic`), an empty batch or one over `Hub:Publish:MaxBatchEvents`, or a bad `Idempotency-Key`. Nothing was appended.")
            .AnswersAuthProblems("The credentials may not publish to this topic. Nothing was appended.")
            .AnswersProblem(StatusCodes.Status413PayloadTooLarge, "The body is larger than `Hub:Publish:MaxBodyBytes`. Nothing was appended.")
            .AnswersProblem(StatusCodes.Status415UnsupportedMediaType, "The Content-Type is not JSON (`application/json` or `application/*+json`). Nothing was appended.")
            .AnswersProblem(StatusCodes.Status429TooManyRequests, "This client publishes more than it may right now: try again after `Retry-After` seconds. Nothing was appended.", retryAfter: true)
            .AnswersProblem(StatusCodes.Status503ServiceUnavailable, "The hub cannot take more events right now (its log has `Hub:Log:Sqlite:MaxPendingEvents` or `Hub:Log:Postgres:MaxPendingEvents` waiting, its log cannot be written (disk full, I/O error, a failed writer or database file, PostgreSQL unreachable: `/health/ready` says so), or it is shutting down): try again after `Retry-After` seconds. Nothing was appended.", retryAfter: true)
            .DisableAntiforgery()
            .RequireAuthorization(HubPolicies.Client).RequireRateLimiting(PublishRateLimiting.Policy);

        api.MapGet("/events", EventsEndpoints.ReadAsync)
            .WithName("ReadEvents")
            .WithSummary("Read the log after a sequence")
            .WithDescription("Reads up to `limit` events after sequence `after` whose topic matches the pattern `topic` (default `>`, every topic). Events older than the retention are gone: a page then starts at the oldest retained event. Each call examines at most `Hub:Log:MaxScanEvents` events and answers at most `Hub:Log:MaxPageBytes` of them, so a page may hold fewer than `limit`, or none, while `next` moves on: read until `next` stops moving. The answer's `epoch` names the log; pass it back as `epoch` with `after`, so that a log that was reset (a new or emptied one) answers 409 instead of a page that is not what came after yours.")
            .Answers<EventsPage>(StatusCodes.Status200OK, "The matching events after `after`, in sequence order, `next` (pass it as `after` to read on) and the log's `epoch`.")
            .AnswersValidationProblem("A bad `topic` pattern, `after` or `limit`: `errors` names it.")
            .AnswersAuthProblems("The credentials may not read this topic.")
            .AnswersProblem(StatusCodes.Status409Conflict, "The log was reset: `epoch` is not the log's, or `after` is beyond its head (`field` names which; `epoch` and `head` say where the log is now). Read again from `after=0`.")
            .AnswersProblem(StatusCodes.Status503ServiceUnavailable, "The page lies in a log the hub cannot read right now (its PostgreSQL database is unreachable: `/health/ready` says so): try again after `Retry-After` seconds.", retryAfter: true)
            .RequireAuthorization(HubPolicies.Client);

        api.MapGet("/topics", SubscriptionsEndpoints.ListTopics)
            .WithName("ListTopics")
            .WithSummary("The topics seen, with counts and last sequences")
            .WithDescription("Lists every topic published to, with its number of events and the sequence of its last one.")
            .Answers<TopicInfo[]>(StatusCodes.Status200OK, "Every topic the log has seen (that the credentials may publish or subscribe to), with how many events it got and the sequence of the last one.")
            .AnswersAuthProblems("The credentials may not list topics.")
            .RequireAuthorization(HubPolicies.Client);

        api.MapGet("/subscriptions", SubscriptionsEndpoints.ListSubscriptions)
            .WithName("ListSubscriptions")
            .WithSummary("The live subscriptions and their demand windows, the laggards first")
            .WithDescription("Lists the subscriptions of every connection: filter, demand window (`maxDemand`, `minDemand`, `credits`), events in flight, how far behind the head each is (`lag`) and what it was sent or skipped.")
            .Answers<SubscriptionInfo[]>(StatusCodes.Status200OK, "The live subscriptions, the most lagging first: each one's filter, demand window, credits and counters.")
            .AnswersAuthProblems("The credentials may not list subscriptions (the admin grant is needed).")
            .RequireAuthorization(HubPolicies.Admin);

        api.MapGet("/groups", SubscriptionsEndpoints.ListGroups)
            .WithName("ListGroups")
            .WithSummary("The live groups: members, acknowledged position and lag, the laggards first")
            .WithDescription("Lists the groups with members now whose every topic the credentials may subscribe to (every group with the admin grant): dispatch (`demand` or `partition`), members, the acknowledged `position` (kept across restarts), how far it is behind the head (`lag`), and the events queued and in flight. Groups of one name with other topics are other groups, each listed with its topics.")
            .Answers<GroupInfo[]>(StatusCodes.Status200OK, "The live groups the credentials may read, the most lagging first.")
            .AnswersAuthProblems("The credentials may not list groups.")
            .RequireAuthorization(HubPolicies.Client);

        api.MapDelete("/subscriptions/{id}", SubscriptionsEndpoints.Delete)
            .WithName("DeleteSubscription")
            .WithSummary("End a subscription; its client is told with `ended`")
            .WithDescription("Ends the subscription `id`: the hub's own id, as `GET /api/subscriptions` lists it (the same as `Subscribe` answered, unless the client chose its id: that one is the listing's `subscriptionId`, unique only on its connection). Its client receives `ended` with `{\"reason\": \"deleted\"}`.")
            .Answers(StatusCodes.Status204NoContent, "The subscription ended; its client was sent `ended` with reason `deleted`.")
            .AnswersProblem(StatusCodes.Status404NotFound, "No live subscription has this id.")
            .AnswersAuthProblems("The credentials may not end this subscription (the admin grant is needed).")
            .RequireAuthorization(HubPolicies.Admin);

        api.MapHubInfo();

        // A connection ends when its token expires (CloseOnAuthenticationExpiration); API keys do not expire. With
        // Hub:Auth:Mode None the hubs' policies let everyone in, so they are not evaluated at all: a hub connection's
        // request then holds no request services scope nor authorization state for as long as its WebSocket lives.
        var open = endpoints.ServiceProvider.GetRequiredService<IOptions<AuthOptions>>().Value.EffectiveMode == AuthMode.None;
        var events = endpoints.MapHub<EventsHub>(EventsHub.Path, o => o.CloseOnAuthenticationExpiration = true);
        var dashboard = endpoints.MapHub<DashboardHub>(DashboardHub.Path, o => o.CloseOnAuthenticationExpiration = true);
        if (!open)
        {
            events.RequireAuthorization(HubPolicies.Client);
            dashboard.RequireAuthorization(HubPolicies.Admin);
        }

        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = c => c.Tags.Contains("live") }).WithName("Live");
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).WithName("Ready");
        return endpoints;
    }

    [LoggerMessage(EventId = 1, EventName = "HubMiddlewareMissing", Level = LogLevel.Warning,
        Message = "MapHub() ran without UseHub() before it: the hub's CORS policy and publish rate limits are off, and errors are not answered as problem+json. Call app.UseHub() before app.MapHub().")]
    private static partial void LogMiddlewareMissing(ILogger logger);
}
