using Microsoft.AspNetCore.Http.HttpResults;

namespace Hub.Server.Api;

/// <summary>The API's error answers, all <c>application/problem+json</c> (RFC 9457), each naming what was wrong.</summary>
internal static class Problems
{
    public static ValidationProblem Invalid(Dictionary<string, string[]> errors)
    {
        var (field, messages) = errors.First();
        var more = errors.Count > 1 ? $" (and {errors.Count - 1} more)" : "";
        return TypedResults.ValidationProblem(errors, detail: $"{field}: {messages[0]}{more}", title: "The request is not valid.");
    }

    public static ValidationProblem Invalid(string field, string message) => Invalid(new() { [field] = [message] });

    public static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(
            detail: $"body: the request body is larger than the limit of {limit} bytes (Hub:Publish:MaxBodyBytes)",
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "The request body is too large.",
            extensions: new Dictionary<string, object?> { ["field"] = "body", ["limit"] = limit });

    public static ProblemHttpResult UnsupportedMediaType(string? contentType) =>
        TypedResults.Problem(
            detail: $"Content-Type: must be application/json (got {(string.IsNullOrEmpty(contentType) ? "none" : contentType)})",
            statusCode: StatusCodes.Status415UnsupportedMediaType,
            title: "Unsupported media type.",
            extensions: new Dictionary<string, object?> { ["field"] = "Content-Type" });

    public static ProblemHttpResult Overloaded(string why) =>
        TypedResults.Problem(
            detail: $"log: {why}; nothing was appended, try again after Retry-After seconds",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "The hub cannot take more events right now.");

    public static ProblemHttpResult Unavailable(string why) =>
        TypedResults.Problem(
            detail: $"log: {why}; nothing was appended, try again after Retry-After seconds",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "The hub cannot write events right now.");

    public static ProblemHttpResult ShuttingDown() =>
        TypedResults.Problem(
            detail: "the hub is shutting down; nothing was appended, try again after Retry-After seconds",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "The hub is shutting down.");

    /// <summary>409: the request's position belongs to another log (another epoch, or beyond the head): the log was reset.</summary>
    public static ProblemHttpResult LogReset(string field, string message, string epoch, long head) =>
        TypedResults.Problem(
            detail: $"{field}: {message}",
            statusCode: StatusCodes.Status409Conflict,
            title: "The log was reset.",
            extensions: new Dictionary<string, object?> { ["field"] = field, ["epoch"] = epoch, ["head"] = head });

    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(detail: what, statusCode: StatusCodes.Status404NotFound, title: "Not found.");
}
