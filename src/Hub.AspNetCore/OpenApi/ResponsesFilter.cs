using System.Globalization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Hub.Server.OpenApi;

/// <summary>
/// Writes what each declared answer means (<see cref="ResponseDescription"/>, set where the endpoint is mapped), the
/// <c>Retry-After</c> header where there is one, and an example body (<see cref="ApiExamples"/>).
/// </summary>
internal sealed class ResponsesFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Responses is null)
        {
            return;
        }

        var descriptions = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ResponseDescription>()
            .ToDictionary(d => d.StatusCode.ToString(CultureInfo.InvariantCulture));
        foreach (var (code, answer) in operation.Responses)
        {
            if (answer is not OpenApiResponse response)
            {
                continue;
            }

            if (descriptions.TryGetValue(code, out var description))
            {
                response.Description = description.Description;
                if (description.RetryAfter)
                {
                    response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    response.Headers["Retry-After"] = new OpenApiHeader
                    {
                        Description = "Seconds to wait before trying again.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1" },
                    };
                }
            }

            if (!int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                continue;
            }

            foreach (var media in response.Content?.Values.OfType<OpenApiMediaType>() ?? [])
            {
                media.Example = ApiExamples.Response(operation.OperationId, status);
            }
        }
    }
}
