using Microsoft.AspNetCore.Http.HttpResults;

namespace Hub.Server.Auth;

/// <summary>The 401 and 403 answers, <c>application/problem+json</c> naming what is missing.</summary>
internal static class AuthProblems
{
    public const string CredentialsField = "credentials";

    public static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(
            detail: $"{CredentialsField}: {detail}",
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Credentials are missing or not valid.",
            extensions: new Dictionary<string, object?> { ["field"] = CredentialsField });

    public static ProblemHttpResult Forbidden(string field, string detail) =>
        TypedResults.Problem(
            detail: $"{field}: {detail}",
            statusCode: StatusCodes.Status403Forbidden,
            title: "The credentials do not allow this.",
            extensions: new Dictionary<string, object?> { ["field"] = field });
}
