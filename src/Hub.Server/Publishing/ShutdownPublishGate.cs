using System.Globalization;

namespace Hub.Server.Publishing;

/// <summary>
/// Once the host is stopping (SIGTERM, <c>docker stop</c>), <c>POST /api/events</c> answers <c>503</c> problem+json with
/// <c>Retry-After</c> and appends nothing, while subscribers are told <c>ended {reason: "shutdown"}</c> and the log
/// flushes what it acknowledged. A publish that passed the gate before finishes and is acknowledged as usual. Installed
/// first in the pipeline by a startup filter, so no other middleware runs for a refused publish.
/// </summary>
internal sealed partial class ShutdownPublishGate(IHostApplicationLifetime lifetime, ILogger<ShutdownPublishGate> logger) : IStartupFilter
{
    /// <summary>What <c>Retry-After</c> says: about the time a restart takes.</summary>
    internal const int RetryAfterSeconds = 5;

    private int _logged;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
            lifetime.ApplicationStopping.IsCancellationRequested && IsPublish(context.Request)
                ? RefuseAsync(context)
                : nextMiddleware(context));
        next(app);
    };

    private static bool IsPublish(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Path.Equals("/api/events", StringComparison.OrdinalIgnoreCase);

    private Task RefuseAsync(HttpContext context)
    {
        if (Interlocked.Exchange(ref _logged, 1) == 0)
        {
            Log.RefusingPublishes(logger);
        }

        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            detail: $"the hub is shutting down; nothing was appended, try again after Retry-After seconds",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "The hub is shutting down.").ExecuteAsync(context);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "The hub is stopping: publishes are refused with 503 from now on")]
        public static partial void RefusingPublishes(ILogger logger);
    }
}
