using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Hub.Server.Tests.OpenApi;

/// <summary>
/// The OpenAPI document written at build (<c>Hub.Server.json</c> next to <c>Hub.Server.dll</c>, which the client
/// generators read) is the one the hub serves, and it tells a generator what CONTRACT.md promises: an operation id,
/// summary and description per call, every answer the contract lists with its problem+json schema, examples that fit
/// their schemas, named and documented schemas, 64-bit sequences.
/// </summary>
public sealed class OpenApiDocumentTests
{
    private const string Problem = "#/components/schemas/ProblemDetails";
    private const string ValidationProblem = "#/components/schemas/HttpValidationProblemDetails";

    // CONTRACT.md's REST table (and GET /api/groups): every call and every answer it lists (401, 403 and 429 before authentication and rate
    // limits exist, so that clients generated today know them).
    private static readonly ContractOperation[] Contract =
    [
        new("post", "/api/events", "PublishEvents", [202, 400, 401, 403, 413, 415, 429, 503]),
        new("get", "/api/events", "ReadEvents", [200, 400, 401, 403, 409, 503]), // 409: the log was reset (epoch); 503: its page lies in a database that cannot be read now
        new("get", "/api/topics", "ListTopics", [200, 401, 403]),
        new("get", "/api/info", "GetInfo", [200]), // beyond the table: the auth mode, for the dashboard's banner
        new("get", "/api/subscriptions", "ListSubscriptions", [200, 401, 403]),
        new("get", "/api/groups", "ListGroups", [200, 401, 403]), // beyond the table: the groups issue asks for it
        new("delete", "/api/subscriptions/{id}", "DeleteSubscription", [204, 401, 403, 404]),
    ];

    private static readonly string DocumentPath = typeof(OpenApiDocumentTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "HubOpenApiDocument").Value!;

    private static readonly Lazy<JsonObject> BuildTime = new(() => JsonNode.Parse(File.ReadAllText(DocumentPath))!.AsObject());

    private static JsonObject Document => BuildTime.Value;

    public static TheoryData<string> OperationIds
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var operation in Contract)
            {
                data.Add(operation.OperationId);
            }

            return data;
        }
    }

    [Fact]
    public async Task BuildTimeDocument_IsTheOneTheHubServes()
    {
        await using var hub = await TestHub.StartAsync();
        var served = JsonNode.Parse(await hub.Http.GetStringAsync("swagger/v1/swagger.json"));
        var difference = FirstDifference(Document, served, "$");
        Assert.True(difference is null, $"{DocumentPath} and GET /swagger/v1/swagger.json differ at {difference}");

        using var ui = await hub.Http.GetAsync("swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
    }

    [Fact]
    public void Document_DeclaresBearerAndApiKeySchemes_AndEverySecuredOperationAcceptsEither()
    {
        var schemes = Document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("http", (string?)schemes["bearer"]!["type"]);
        Assert.Equal("bearer", (string?)schemes["bearer"]!["scheme"]);
        Assert.Equal("apiKey", (string?)schemes["apiKey"]!["type"]);
        Assert.Equal("header", (string?)schemes["apiKey"]!["in"]);
        Assert.Equal("X-Api-Key", (string?)schemes["apiKey"]!["name"]);

        foreach (var operation in Contract)
        {
            var security = Operation(operation.Method, operation.Path)["security"]?.AsArray();
            if (operation.OperationId == "GetInfo")
            {
                Assert.Null(security);
                continue;
            }

            Assert.NotNull(security);
            var names = security.SelectMany(r => r!.AsObject().Select(p => p.Key)).Order(StringComparer.Ordinal);
            Assert.Equal(["apiKey", "bearer"], names);
        }
    }

    [Fact]
    public void Document_HasTheContractsCalls_AndNoOthers()
    {
        var listed = Document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(method => $"{method.Key} {path.Key}"))
            .Order(StringComparer.Ordinal);
        Assert.Equal(Contract.Select(o => $"{o.Method} {o.Path}").Order(StringComparer.Ordinal), listed);
    }

    [Theory]
    [MemberData(nameof(OperationIds))]
    public void Operation_HasItsId_Summary_Description_AndEveryContractAnswer(string operationId)
    {
        var expected = Contract.Single(o => o.OperationId == operationId);
        var operation = Operation(expected.Method, expected.Path);
        Assert.Equal(operationId, (string?)operation["operationId"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)operation["summary"]), "summary");
        Assert.False(string.IsNullOrWhiteSpace((string?)operation["description"]), "description");

        var responses = operation["responses"]!.AsObject();
        Assert.Equal(expected.Answers.Select(c => c.ToString(CultureInfo.InvariantCulture)), responses.Select(r => r.Key).Order(StringComparer.Ordinal));
        foreach (var (code, response) in responses)
        {
            var status = int.Parse(code, CultureInfo.InvariantCulture);
            var description = (string?)response!["description"];
            Assert.False(string.IsNullOrWhiteSpace(description), $"{operationId} {code}: description");
            Assert.NotEqual(ReasonPhrases.GetReasonPhrase(status), description); // what it means here, not the status's name

            if (status == (int)HttpStatusCode.NoContent)
            {
                Assert.Null(response["content"]);
                continue;
            }

            var (mediaType, media) = Assert.Single(response["content"]!.AsObject());
            if (status >= 400)
            {
                Assert.Equal("application/problem+json", mediaType);
                Assert.Equal(status == 400 ? ValidationProblem : Problem, (string?)media!["schema"]!["$ref"]);
            }
            else
            {
                Assert.Equal("application/json", mediaType);
            }

            var example = media!["example"];
            Assert.True(example is not null, $"{operationId} {code}: example");
            AssertFits(example, media["schema"]!, $"{operationId} {code} example");
            if (status >= 400)
            {
                Assert.Equal(status, (int)example["status"]!);
            }
        }
    }

    [Theory]
    [InlineData("429")]
    [InlineData("503")]
    public void Publish_TooBusyAnswers_CarryRetryAfter(string code)
    {
        var header = Operation("post", "/api/events")["responses"]![code]!["headers"]!["Retry-After"]!;
        Assert.Equal("integer", (string?)header["schema"]!["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)header["description"]));
    }

    [Fact]
    public void Publish_TakesANamedBatchOrOneEvent_WithAnExampleOfEach_AndAnIdempotencyKey()
    {
        var operation = Operation("post", "/api/events");
        var body = operation["requestBody"]!;
        Assert.True((bool)body["required"]!);
        var media = body["content"]!["application/json"]!;
        Assert.Equal( // the batch first: NSwag gives the body the type of the first alternative
            ["#/components/schemas/EventBatch", "#/components/schemas/EventInput"],
            media["schema"]!["oneOf"]!.AsArray().Select(s => (string?)s!["$ref"]));

        var batch = Schema("EventBatch");
        Assert.Equal("array", (string?)batch["type"]);
        Assert.Equal("#/components/schemas/EventInput", (string?)batch["items"]!["$ref"]);
        Assert.Equal(1, (int)batch["minItems"]!);

        var one = media["examples"]!["one"]!["value"];
        var many = media["examples"]!["batch"]!["value"];
        Assert.Equal(JsonValueKind.Object, one!.GetValueKind());
        Assert.True(many!.AsArray().Count > 1, "the batch example holds several events");
        AssertFits(one, new JsonObject { ["$ref"] = "#/components/schemas/EventInput" }, "one-event example");
        AssertFits(many, new JsonObject { ["$ref"] = "#/components/schemas/EventBatch" }, "batch example");

        var key = Assert.Single(operation["parameters"]!.AsArray(), p => (string?)p!["name"] == "Idempotency-Key");
        Assert.Equal("header", (string?)key!["in"]);
    }

    [Theory]
    [InlineData("EventInput")]
    [InlineData("EventBatch")]
    [InlineData("EventEnvelope")]
    [InlineData("EventsPage")]
    [InlineData("PublishResponse")]
    [InlineData("PublishedEvent")]
    [InlineData("TopicInfo")]
    [InlineData("SubscriptionInfo")]
    public void Schema_IsNamedAndDocumented(string name)
    {
        var schema = Schema(name);
        Assert.False(string.IsNullOrWhiteSpace((string?)schema["description"]), $"{name}: description");
        foreach (var (property, value) in schema["properties"]?.AsObject() ?? [])
        {
            Assert.False(string.IsNullOrWhiteSpace((string?)value!["description"]), $"{name}.{property}: description");
        }
    }

    [Theory]
    [InlineData("EventEnvelope", "sequence")]
    [InlineData("PublishedEvent", "sequence")]
    [InlineData("EventsPage", "next")]
    [InlineData("TopicInfo", "lastSequence")]
    [InlineData("TopicInfo", "count")]
    [InlineData("SubscriptionInfo", "position")]
    [InlineData("SubscriptionInfo", "lag")]
    [InlineData("SubscriptionInfo", "delivered")]
    public void Sequences_AndCounts_AreInt64(string schema, string property)
    {
        var value = Schema(schema)["properties"]![property]!;
        Assert.Equal("integer", (string?)value["type"]);
        Assert.Equal("int64", (string?)value["format"]);
    }

    [Fact]
    public void ReadEvents_After_IsAnInt64()
    {
        var after = Operation("get", "/api/events")["parameters"]!.AsArray().Single(p => (string?)p!["name"] == "after")!;
        Assert.Equal("int64", (string?)after["schema"]!["format"]);
    }

    private static JsonObject Operation(string method, string path) => Document["paths"]![path]![method]!.AsObject();

    private static JsonObject Schema(string name)
    {
        var schema = Document["components"]!["schemas"]![name];
        Assert.True(schema is not null, $"components.schemas.{name}");
        return schema.AsObject();
    }

    /// <summary>
    /// Checks a value against the part of JSON Schema the document uses ($ref, type, nullable, required, properties,
    /// additionalProperties, items, date-time), so that an example cannot drift from its schema.
    /// </summary>
    private static void AssertFits(JsonNode? value, JsonNode schema, string where)
    {
        if ((string?)schema["$ref"] is { } reference)
        {
            AssertFits(value, Schema(reference["#/components/schemas/".Length..]), where);
            return;
        }

        var type = (string?)schema["type"];
        if (value is null)
        {
            Assert.True(type is null || schema["nullable"]?.GetValue<bool>() == true, $"{where}: null, which the schema does not allow");
            return;
        }

        switch (type)
        {
            case "object":
                Assert.True(value is JsonObject, $"{where}: not an object");
                var properties = schema["properties"]?.AsObject();
                foreach (var required in schema["required"]?.AsArray() ?? [])
                {
                    Assert.True(value.AsObject().ContainsKey((string)required!), $"{where}: no {required}");
                }

                foreach (var (name, item) in value.AsObject())
                {
                    if (properties?[name] is { } property)
                    {
                        AssertFits(item, property, $"{where}.{name}");
                    }
                    else
                    {
                        var additional = schema["additionalProperties"];
                        Assert.True(additional is JsonObject, $"{where}: {name} is not in the schema");
                        AssertFits(item, additional, $"{where}.{name}");
                    }
                }

                break;
            case "array":
                Assert.True(value is JsonArray, $"{where}: not an array");
                var index = 0;
                foreach (var item in value.AsArray())
                {
                    AssertFits(item, schema["items"]!, $"{where}[{index++}]");
                }

                break;
            case "string":
                Assert.True(value.GetValueKind() == JsonValueKind.String, $"{where}: not a string");
                if ((string?)schema["format"] == "date-time")
                {
                    Assert.True(DateTimeOffset.TryParse((string)value!, CultureInfo.InvariantCulture, out _), $"{where}: not a date-time");
                }

                break;
            case "integer":
                Assert.True(value.GetValueKind() == JsonValueKind.Number && value.GetValue<JsonElement>().TryGetInt64(out _), $"{where}: not an integer");
                break;
            case "boolean":
                Assert.True(value.GetValueKind() is JsonValueKind.True or JsonValueKind.False, $"{where}: not a boolean");
                break;
            default:
                Assert.True(type is null, $"{where}: the check does not know type {type}");
                break;
        }
    }

    /// <summary>The JSON path where two documents first differ, or null when they are equal (property order aside).</summary>
    private static string? FirstDifference(JsonNode? a, JsonNode? b, string path)
    {
        switch (a, b)
        {
            case (JsonObject x, JsonObject y):
                foreach (var name in x.Select(p => p.Key).Union(y.Select(p => p.Key)))
                {
                    if (!x.ContainsKey(name) || !y.ContainsKey(name))
                    {
                        return $"{path}.{name} (in one only)";
                    }

                    if (FirstDifference(x[name], y[name], $"{path}.{name}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case (JsonArray x, JsonArray y):
                for (var i = 0; i < Math.Max(x.Count, y.Count); i++)
                {
                    if (i >= x.Count || i >= y.Count)
                    {
                        return $"{path}[{i}] (in one only)";
                    }

                    if (FirstDifference(x[i], y[i], $"{path}[{i}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return JsonNode.DeepEquals(a, b) ? null : $"{path}: {a?.ToJsonString()} ≠ {b?.ToJsonString()}";
        }
    }

    private sealed record ContractOperation(string Method, string Path, string OperationId, int[] Answers);
}
