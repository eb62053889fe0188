using Hub.Server.Api;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Hub.Server.OpenApi;

/// <summary>
/// Documents what the handlers parse themselves: <c>POST /api/events</c> takes one <see cref="EventInput"/> or an
/// <c>EventBatch</c> (an array of them) and an optional <c>Idempotency-Key</c> header, and <c>GET /api/events</c>
/// takes integer <c>after</c> and <c>limit</c>.
/// </summary>
internal sealed class PublishBodyFilter : IOperationFilter
{
    internal const string BatchSchemaId = "EventBatch";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        switch (operation.OperationId)
        {
            case "PublishEvents":
                var single = context.SchemaGenerator.GenerateSchema(typeof(EventInput), context.SchemaRepository);
                if (!context.SchemaRepository.Schemas.ContainsKey(BatchSchemaId))
                {
                    context.SchemaRepository.AddDefinition(BatchSchemaId, new OpenApiSchema
                    {
                        Type = JsonSchemaType.Array,
                        Items = single,
                        MinItems = 1,
                        Description = "A batch: events appended all or nothing, in this order. At least one, at most `Hub:Publish:MaxBatchEvents` (1000 by default).",
                    });
                }

                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "One event, or an array of events (a batch, appended all or nothing).",
                    Content = new Dictionary<string, IOpenApiMediaType>
                    {
                        ["application/json"] = new OpenApiMediaType
                        {
                            // The batch first: NSwag types a oneOf body by its first alternative, and a client that can
                            // send a batch can send one event (a batch of one); union-aware generators see both.
                            Schema = new OpenApiSchema { OneOf = [new OpenApiSchemaReference(BatchSchemaId, context.Document), single] },
                            Examples = new Dictionary<string, IOpenApiExample>
                            {
                                ["one"] = new OpenApiExample { Summary = "One event", Value = ApiExamples.OneEvent() },
                                ["batch"] = new OpenApiExample { Summary = "A batch of two events", Value = ApiExamples.Batch() },
                            },
                        },
                    },
                };
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = "Idempotency-Key",
                    In = ParameterLocation.Header,
                    Required = false,
                    Description = "Makes the whole batch idempotent: the same key again, within the dedup window, answers the first answer and appends nothing.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 255 },
                });
                break;
            case "ReadEvents" when operation.Parameters is not null:
                foreach (var parameter in operation.Parameters.OfType<OpenApiParameter>())
                {
                    parameter.Schema = parameter.Name switch
                    {
                        "after" => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0" },
                        "limit" => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = "1000" },
                        _ => parameter.Schema,
                    };
                }

                break;
        }
    }
}
