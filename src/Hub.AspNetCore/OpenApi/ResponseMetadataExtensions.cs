using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Hub.Server.OpenApi;

/// <summary>
/// Declares an endpoint's answers for the OpenAPI document: status, schema and content type as ASP.NET Core's
/// <c>Produces…</c> do, plus what each means (<see cref="ResponseDescription"/>). Every error is
/// <c>application/problem+json</c>: <see cref="ProblemDetails"/>, or <see cref="HttpValidationProblemDetails"/> for 400.
/// </summary>
internal static class ResponseMetadataExtensions
{
    public const string NoCredentials = "No credentials, or bad ones.";

    /// <summary>A success answer with a JSON body of <typeparamref name="T"/>.</summary>
    public static RouteHandlerBuilder Answers<T>(this RouteHandlerBuilder builder, int statusCode, string description) =>
        builder.Produces<T>(statusCode).WithMetadata(new ResponseDescription(statusCode, description));

    /// <summary>A success answer without a body.</summary>
    public static RouteHandlerBuilder Answers(this RouteHandlerBuilder builder, int statusCode, string description) =>
        builder.Produces(statusCode).WithMetadata(new ResponseDescription(statusCode, description));

    /// <summary>A 400 whose <c>errors</c> name the fields (<see cref="ValidationProblem"/>).</summary>
    public static RouteHandlerBuilder AnswersValidationProblem(this RouteHandlerBuilder builder, string description) =>
        builder.ProducesValidationProblem().WithMetadata(new ResponseDescription(StatusCodes.Status400BadRequest, description));

    /// <summary>An error answer with a problem details body.</summary>
    public static RouteHandlerBuilder AnswersProblem(this RouteHandlerBuilder builder, int statusCode, string description, bool retryAfter = false) =>
        builder.ProducesProblem(statusCode).WithMetadata(new ResponseDescription(statusCode, description, retryAfter));

    /// <summary>401 and 403: the contract's answers to missing credentials and to credentials that do not allow the call.</summary>
    public static RouteHandlerBuilder AnswersAuthProblems(this RouteHandlerBuilder builder, string forbidden) =>
        builder.AnswersProblem(StatusCodes.Status401Unauthorized, NoCredentials)
            .AnswersProblem(StatusCodes.Status403Forbidden, forbidden);
}
