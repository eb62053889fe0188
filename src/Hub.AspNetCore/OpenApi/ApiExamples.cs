using System.Text.Json.Nodes;

namespace Hub.Server.OpenApi;

/// <summary>
/// The examples the OpenAPI document shows: a request and the answers it gets, written as the hub writes them (the
/// problem bodies' <c>traceId</c> left out). Each call returns a new node, since a node belongs to one document place.
/// </summary>
internal static class ApiExamples
{
    public static JsonNode OneEvent() => Parse("""
        {"topic": "orders.eu", "type": "order.created", "id": "o-1", "key": "customer-7", "data": {"total": 42}, "headers": {"trace": "t-1"}}
        """);

    public static JsonNode Batch() => Parse("""
        [
          {"topic": "orders.us", "type": "order.created", "id": "o-2", "data": {"total": 7}},
          {"topic": "payments.card", "data": 1}
        ]
        """);

    /// <summary>The example of a response, or null when it has none.</summary>
    public static JsonNode? Response(string? operationId, int statusCode) => (operationId, statusCode) switch
    {
        ("PublishEvents", 202) => Parse("""
            {"events": [
              {"sequence": 2, "topic": "orders.us", "id": "o-2", "duplicate": false},
              {"sequence": 3, "topic": "payments.card", "id": null, "duplicate": false}
            ]}
            """),
        ("PublishEvents", 400) => Invalid("[1].topic", "is required"),
        ("ReadEvents", 200) => Parse("""
            {"events": [
              {"sequence": 1, "topic": "orders.eu", "type": "order.created", "id": "o-1", "key": "customer-7", "time": "2026-11-22T09:30:00.1234567Z", "data": {"total": 42}, "headers": {"trace": "t-1"}},
              {"sequence": 2, "topic": "orders.us", "type": "order.created", "id": "o-2", "key": null, "time": "2026-11-22T09:30:01.5000000Z", "data": {"total": 7}, "headers": null}
            ],
            "next": 2,
            "epoch": "9f1c2b7d0e4a4c6b8d3e5f7a1b2c3d4e"}
            """),
        ("ReadEvents", 400) => Invalid("after", "must be a sequence ≥ 0 (got '-1')"),
        ("ReadEvents", 409) => Problem(409, "The log was reset.", "after: 5000 is beyond the head of this hub's log (2): the log was reset, and its sequences are not those of the old one; read again from after=0",
            ("field", "after"), ("epoch", "9f1c2b7d0e4a4c6b8d3e5f7a1b2c3d4e"), ("head", 2)),
        ("ListTopics", 200) => Parse("""
            [{"topic": "orders.eu", "count": 1, "lastSequence": 1}, {"topic": "orders.us", "count": 1, "lastSequence": 2}]
            """),
        ("ListSubscriptions", 200) => Parse("""
            [{"id": "sub_3f2b9c1e8d7a4b6f0e1d", "subscriptionId": "sub_3f2b9c1e8d7a4b6f0e1d", "connectionId": "Wm9vZ2xlIGNvbm5lY3Rpb24", "topics": ["orders.*"], "types": null, "group": null,
              "dispatch": "broadcast", "demand": "auto", "overflow": "dropOldest", "maxDemand": 1000, "minDemand": 500,
              "credits": 998, "buffered": 0, "position": 2, "lag": 1, "delivered": 2, "dropped": 0, "inFlight": 0, "kind": "subscriber"},
             {"id": "sub_9a8b7c6d5e4f3a2b1c0d", "subscriptionId": "billing-1", "connectionId": "QW5vdGhlciBjb25uZWN0aW9u", "topics": ["orders.*"], "types": null, "group": "billing",
              "dispatch": "partition", "demand": "auto", "overflow": "dropOldest", "maxDemand": 100, "minDemand": 50,
              "credits": 99, "buffered": 0, "position": 1, "lag": 2, "delivered": 1, "dropped": 0, "inFlight": 1, "kind": "group"},
             {"id": "handler:invoices", "subscriptionId": "handler:invoices", "connectionId": "in-process", "topics": ["orders.>"], "types": null, "group": null,
              "dispatch": "broadcast", "demand": "auto", "overflow": "dropOldest", "maxDemand": 100, "minDemand": 50,
              "credits": 100, "buffered": 0, "position": 2, "lag": 0, "delivered": 2, "dropped": 0, "inFlight": 0, "kind": "handler"}]
            """),
        ("ListGroups", 200) => Parse("""
            [{"name": "billing", "topics": ["orders.*"], "types": null, "dispatch": "partition", "members": ["sub_9a8b7c6d5e4f3a2b1c0d"],
              "position": 1, "cursor": 2, "lag": 2, "queued": 0, "inFlight": 1}]
            """),
        ("DeleteSubscription", 404) => Problem(404, "Not found.", "id: no live subscription 'nope'"),
        ("GetInfo", 200) => Parse("""{"authMode":"Required"}"""),
        (_, 401) => Problem(401, "Credentials are missing or not valid.", "credentials: the token has expired", ("field", "credentials")),
        (_, 403) => Problem(403, "The credentials do not allow this.", "topic: the credentials may not publish to 'orders.eu' (no hub:pub grant matches it); nothing was appended", ("field", "topic")),
        (_, 413) => Problem(413, "The request body is too large.", "body: the request body is larger than the limit of 1048576 bytes (Hub:Publish:MaxBodyBytes)", ("field", "body"), ("limit", 1048576)),
        (_, 415) => Problem(415, "Unsupported media type.", "Content-Type: must be application/json (got text/plain)", ("field", "Content-Type")),
        (_, 429) => Problem(429, "Too many requests.", "rate: over the limit for this client; nothing was appended, try again after Retry-After seconds"),
        (_, 503) => Problem(503, "The hub cannot take more events right now.", "log: 100000 events are waiting to be written (Hub:Log:Sqlite:MaxPendingEvents is 100000); nothing was appended, try again after Retry-After seconds"),
        _ => null,
    };

    private static JsonObject Invalid(string field, string message) => new()
    {
        ["type"] = TypeUri(400),
        ["title"] = "The request is not valid.",
        ["status"] = 400,
        ["detail"] = $"{field}: {message}",
        ["errors"] = new JsonObject { [field] = new JsonArray(message) },
    };

    private static JsonObject Problem(int status, string title, string detail, params (string Name, JsonNode Value)[] extensions)
    {
        var problem = new JsonObject();
        if (TypeUri(status) is { } type)
        {
            problem["type"] = type;
        }

        problem["title"] = title;
        problem["status"] = status;
        problem["detail"] = detail;
        foreach (var (name, value) in extensions)
        {
            problem[name] = value;
        }

        return problem;
    }

    // The section of RFC 9110 that ASP.NET Core's problem details link for each status (none for 429).
    private static string? TypeUri(int status) => status switch
    {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        401 => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        _ => null,
    };

    private static JsonNode Parse(string json) => JsonNode.Parse(json)!;
}
