using System.Text;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hub.Server.Tests.Security;

/// <summary>A hostile REST request: what is sent, with which credential (a bearer value, or none).</summary>
public sealed record HostileRequest(string Method, string Path, string? Bearer, byte[]? Body, string? ContentType = "application/json",
    IReadOnlyList<KeyValuePair<string, string>>? Headers = null);

/// <summary>A hostile hub case: a frame sent on a connection with <see cref="Token"/> (or a connection attempt alone
/// when <see cref="Frame"/> is null). <c>$SUB</c> in the frame stands for a live subscription of that connection.</summary>
public sealed record HostileFrame(byte[]? Frame, string? Token, string Path = "hubs/events", IReadOnlyList<KeyValuePair<string, string>>? Headers = null);

/// <summary>
/// The generated hostile inputs, by name: broken JSON, deep nesting, huge strings, wrong types, invalid UTF-8,
/// bad and injection-shaped topics and patterns, expired, tampered, unsigned and foreign tokens, a grant for one topic
/// used for another, and oversized frames; over REST and over the hub protocol.
/// </summary>
public static class HostileCases
{
    /// <summary>The only credential that passes everything; hostile bodies are sent with it so validation, not
    /// authentication, has to refuse them.</summary>
    public const string Admin = Credentials.AdminKey;

    /// <summary>Topics no publisher may use and patterns no subscriber may ask for.</summary>
    public static readonly string[] BadTopics =
    [
        "", " ", ".", "..", "...", "a..b", ".a", "a.", ">.*", ">.a", "a.>.b", "*.>.*", "a.**", "a.>>", "a*", "a>", "a b",
        "a/b", "a\\b", "'; DROP TABLE events;--", "a' OR '1'='1", "<script>alert(1)</script>", "${jndi:ldap://127.0.0.1/x}",
        "../../etc/passwd", "..%2f..%2f", "%2e%2e", "a\u0000b", "a\nb", "a\tb", "ä", "\u202egnp.exe", "a\"b", "{{7*7}}",
        "$(rm -rf /)", "a;b", "a|b", new string('x', 256), string.Concat(Enumerable.Repeat("a.", 150)) + "a", "\ud83d\ude00",
    ];

    /// <summary>The good tenant's group: its member reads <see cref="GoodTopics"/> and must get every good event.</summary>
    public const string GoodGroup = "good";

    /// <summary>The good tenant's topic pattern and the topic it publishes to.</summary>
    public const string GoodTopics = "good.>";

    /// <summary>What the good publisher's <c>Idempotency-Key</c>s look like: <c>good-1</c>, <c>good-2</c>, … (predictable on
    /// purpose: another tenant can guess them). <c>$LAST_KEY</c> and <c>$NEXT_KEY</c> in a case stand for the last one
    /// used and the next one.</summary>
    public const string GoodKeyPrefix = "good-";

    /// <summary>Another tenant: it may publish to and subscribe to <c>hostile.&gt;</c>, nothing of the good tenant's.
    /// (Before the cases, which use it.)</summary>
    private static readonly string Intruder = Credentials.Token("intruder", subscribe: ["hostile.>"], publish: ["hostile.>"]);

    // After BadTopics, which they use.
    public static readonly IReadOnlyDictionary<string, HostileRequest> Rest = BuildRest();

    public static readonly IReadOnlyDictionary<string, HostileFrame> Hub = BuildHub();

    /// <summary>
    /// Requests from another tenant that its own grants allow (so they succeed), aimed at the good tenant's
    /// idempotency keys, group and lists: whatever they answer, they must neither show the good tenant's events, topics
    /// or subscriptions, nor change what the good tenant gets.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, HostileRequest> CrossTenantRest = BuildCrossTenantRest();

    /// <summary>Hub invocations of the same kind: joining the good tenant's group by its name.</summary>
    public static readonly IReadOnlyDictionary<string, HostileFrame> CrossTenantHub = BuildCrossTenantHub();

    private static Dictionary<string, HostileRequest> BuildCrossTenantRest()
    {
        var cases = new Dictionary<string, HostileRequest>();
        var publish = "{\"topic\":\"hostile.x\",\"data\":\"intruder\"}"u8.ToArray();
        foreach (var (credential, who) in new[] { (Intruder, "a token"), (Credentials.OrdersKey, "an API key") })
        {
            var body = credential == Intruder ? publish : "{\"topic\":\"orders.x\",\"data\":\"intruder\"}"u8.ToArray();
            cases.Add($"replay the good publisher's last Idempotency-Key with {who}", new("POST", "api/events", credential, body, Headers: [new("Idempotency-Key", "$LAST_KEY")]));
            cases.Add($"pre-empt the good publisher's next Idempotency-Key with {who}", new("POST", "api/events", credential, body, Headers: [new("Idempotency-Key", "$NEXT_KEY")]));
        }

        cases.Add("list groups", new("GET", "api/groups", Intruder, null, null));
        cases.Add("list topics", new("GET", "api/topics", Intruder, null, null));
        cases.Add("list groups with the orders key", new("GET", "api/groups", Credentials.OrdersKey, null, null));
        cases.Add("read its own topics from the start", new("GET", "api/events?topic=hostile.%3E&after=0", Intruder, null, null));
        return cases;
    }

    private static Dictionary<string, HostileFrame> BuildCrossTenantHub()
    {
        var cases = new Dictionary<string, HostileFrame>();
        // Written as is (no \u003E for '>'), so that what the intruder sent can be told from what it is shown.
        var literal = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        void Subscribe(string name, object request) => cases.Add(name, new(Encoding.UTF8.GetBytes(
            "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Subscribe\",\"arguments\":[" + JsonSerializer.Serialize(request, literal) + "]}\u001e"), Intruder));

        Subscribe("join the good group with its own topics", new { topics = new[] { "hostile.a" }, group = GoodGroup });
        Subscribe("join the good group with its own topics, partitioned", new { topics = new[] { "hostile.a" }, group = GoodGroup, dispatch = "partition" });
        Subscribe("join the good group with its own topics, replaying from 0", new { topics = new[] { "hostile.>" }, group = GoodGroup, after = 0 });
        Subscribe("join the good group with its own topics and types", new { topics = new[] { "hostile.a" }, types = new[] { "t" }, group = GoodGroup, demand = "manual" });
        Subscribe("join the good group with the good topics (not granted)", new { topics = new[] { GoodTopics }, group = GoodGroup });
        return cases;
    }

    private static Dictionary<string, HostileRequest> BuildRest()
    {
        var cases = new Dictionary<string, HostileRequest>();
        void Publish(string name, byte[] body, string? bearer = Admin) => cases.Add("publish: " + name, new("POST", "api/events", bearer, body));
        void PublishText(string name, string body) => Publish(name, Encoding.UTF8.GetBytes(body));

        // Broken JSON.
        string[] broken =
        [
            "", " ", "{", "}", "[", "]", "{\"topic\"", "{\"topic\":", "{\"topic\":\"a\"", "{\"topic\":\"a\",}", "[{\"topic\":\"a\"},]",
            "{\"topic\":'a'}", "{topic:\"a\"}", "{\"topic\":\"a\"}}", "{\"topic\":\"a\"} {\"topic\":\"b\"}", "{\"topic\":\"a\",\"topic\":\"b\"}",
            "/*x*/{\"topic\":\"a\"}", "{\"topic\":\"a\"}//x", "{\"topic\":\"a\",\"data\":NaN}", "{\"topic\":\"a\",\"data\":Infinity}",
            "{\"topic\":\"a\",\"data\":01}", "{\"topic\":\"a\",\"data\":tru}", "{\"topic\":\"a\",\"data\":\"open}", "{\"topic\":\"a\\q\"}",
            "{\"topic\":\"\\u12\"}", "\u0000", "nul", "{\"topic\":\"a\"\u0000}", "{\"topic\":\"\\ud800\"}", "{\"topic\":\"a\",\"type\":\"\\udc00\"}",
            "{\"topic\":\"a\",\"data\":}", "{\"topic\":\"a\" \"data\":1}", "[{\"topic\":\"a\"} {\"topic\":\"b\"}]", "{\"\":\"a\"}",
            "{\"topic\":\"a\",\"\\ud800\":1}", "{\"topic\":\"a\",\"data\":{\"x\":{\"\\udc00\":1}}}", "{\"topic\":\"a\",\"data\":{\"x\":1,\"\\u0078\":2}}",
        ];
        for (var i = 0; i < broken.Length; i++)
        {
            PublishText($"broken JSON #{i} {Show(broken[i])}", broken[i]);
        }

        // Deep nesting.
        foreach (var depth in new[] { 65, 200, 5_000, 100_000 })
        {
            PublishText($"data nested {depth} arrays deep", "{\"topic\":\"a\",\"data\":" + new string('[', depth) + new string(']', depth) + "}");
            PublishText($"data nested {depth} objects deep", "{\"topic\":\"a\",\"data\":" + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth) + "}");
        }

        // Huge strings and counts.
        Publish("type of 256 characters", Json(new { topic = "a", type = new string('t', 256) }));
        Publish("id of 10,000 characters", Json(new { topic = "a", id = new string('i', 10_000) }));
        Publish("key of 300 characters", Json(new { topic = "a", key = new string('k', 300) }));
        Publish("header value of 5,000 characters", Json(new { topic = "a", headers = new Dictionary<string, string> { ["h"] = new string('v', 5_000) } }));
        Publish("header name of 300 characters", Json(new { topic = "a", headers = new Dictionary<string, string> { [new string('h', 300)] = "v" } }));
        Publish("65 headers", Json(new { topic = "a", headers = Enumerable.Range(0, 65).ToDictionary(i => $"h{i}", i => "v") }));
        Publish("data of 300 KB (over MaxEventBytes)", Json(new { topic = "a", data = new string('d', 300_000) }));
        Publish("body of 2 MiB (over MaxBodyBytes)", Json(new { topic = "a", data = new string('d', 2 * 1024 * 1024) }));
        Publish("batch of 1,001 events", Json(Enumerable.Range(0, 1001).Select(_ => new { topic = "a" })));
        Publish("topic of 100,000 characters", Json(new { topic = new string('t', 100_000) }));

        // Wrong types.
        string[] wrong =
        [
            "\"string\"", "1", "true", "null", "[]", "[1]", "[[]]", "[\"a\"]", "[null]", "{}", "{\"topic\":1}", "{\"topic\":true}",
            "{\"topic\":null}", "{\"topic\":[]}", "{\"topic\":{}}", "{\"topic\":1.5}", "{\"topic\":\"a\",\"type\":1}", "{\"topic\":\"a\",\"type\":[]}",
            "{\"topic\":\"a\",\"id\":1}", "{\"topic\":\"a\",\"id\":true}", "{\"topic\":\"a\",\"key\":{}}", "{\"topic\":\"a\",\"headers\":[]}",
            "{\"topic\":\"a\",\"headers\":\"x\"}", "{\"topic\":\"a\",\"headers\":1}", "{\"topic\":\"a\",\"headers\":{\"a\":1}}",
            "{\"topic\":\"a\",\"headers\":{\"a\":null}}", "{\"topic\":\"a\",\"headers\":{\"a\":{}}}", "[{\"topic\":\"a\"},1]",
            "[{\"topic\":\"a\"},{\"topic\":2}]", "{\"topic\":\"a\",\"headers\":{\"\":\"v\"}}",
        ];
        for (var i = 0; i < wrong.Length; i++)
        {
            PublishText($"wrong type #{i} {Show(wrong[i])}", wrong[i]);
        }

        // Invalid UTF-8.
        byte[][] invalidUtf8 = [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]];
        for (var i = 0; i < invalidUtf8.Length; i++)
        {
            Publish($"invalid UTF-8 in topic #{i}", [.. "{\"topic\":\"a"u8, .. invalidUtf8[i], .. "\"}"u8]);
            Publish($"invalid UTF-8 in data #{i}", [.. "{\"topic\":\"a\",\"data\":\""u8, .. invalidUtf8[i], .. "\"}"u8]);
        }

        // Bad and injection-shaped topics, published and read.
        for (var i = 0; i < BadTopics.Length; i++)
        {
            Publish($"bad topic #{i} {Show(BadTopics[i])}", Json(new { topic = BadTopics[i] }));
            if (BadTopics[i].Length > 0)
            {
                cases.Add($"read: bad pattern #{i} {Show(BadTopics[i])}", new("GET", "api/events?topic=" + Uri.EscapeDataString(BadTopics[i]), Admin, null, null));
            }
        }

        foreach (var query in new[] { "after=-1", "after=abc", "after=1.5", "after=99999999999999999999", "after=9223372036854775807", "epoch=another-log", "limit=0", "limit=1001", "limit=-5", "limit=abc", "limit=1e3", "topic=a&topic=b",
                     "limit=2147483647", "limit=2147483648", "limit=100000", "after=1000000000 (beyond the head)" })
        {
            cases.Add($"read: {query}", new("GET", "api/events?" + query.Split(' ')[0], Admin, null, null));
        }

        // Content types and headers.
        foreach (var type in new[] { "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/jsonx", "application/x-www-form-urlencoded", null })
        {
            cases.Add($"publish: content type {type ?? "none"}", new("POST", "api/events", Admin, "{\"topic\":\"a\"}"u8.ToArray(), type));
        }

        foreach (var (name, value) in new[] { ("300 characters", new string('k', 300)), ("a control character", "a\u0001b"), ("empty", "") })
        {
            cases.Add($"publish: Idempotency-Key {name}", new("POST", "api/events", Admin, "{\"topic\":\"a\"}"u8.ToArray(), Headers: [new("Idempotency-Key", value)]));
        }


        // Credentials: missing, malformed, expired, tampered, unsigned, foreign, and grants used beyond their topics.
        var orders = "{\"topic\":\"orders.eu\"}"u8.ToArray();
        var valid = Credentials.Token("mallory", subscribe: ["orders.>"], publish: ["orders.>"]);
        var parts = valid.Split('.');
        var escalated = Credentials.Base64Url("{\"sub\":\"mallory\",\"hub:pub\":[\">\"],\"hub:sub\":[\">\"],\"hub:admin\":true,\"exp\":4102444800}");
        var badTokens = new Dictionary<string, string?>
        {
            ["none"] = null,
            ["an empty bearer"] = "",
            ["an unknown API key"] = "not-a-key",
            ["an API key of 10,000 characters"] = new string('k', 10_000),
            ["an expired token"] = Credentials.Token("mallory", publish: [">"], expires: DateTime.UtcNow.AddMinutes(-10)),
            ["a token expired a day ago (replayed)"] = Credentials.Token("mallory", publish: [">"], expires: DateTime.UtcNow.AddDays(-1)),
            ["a token with an escalated payload"] = parts[0] + "." + escalated + "." + parts[2],
            ["a token with a flipped signature"] = parts[0] + "." + parts[1] + "." + Flip(parts[2]),
            ["a token without its signature"] = parts[0] + "." + parts[1] + ".",
            ["an unsigned token (alg none)"] = Credentials.UnsignedToken("{\"sub\":\"mallory\",\"hub:pub\":[\">\"],\"exp\":4102444800}"),
            ["an unsigned token (alg NONE)"] = Credentials.Base64Url("{\"alg\":\"NONE\"}") + "." + Credentials.Base64Url("{\"sub\":\"m\",\"hub:pub\":[\">\"],\"exp\":4102444800}") + ".",
            ["a token signed with another key"] = Credentials.Token("mallory", publish: [">"], signingKey: "a-different-signing-key-0123456789-abcdefghijklm"),
            ["a token without exp"] = NoExpiry("{\"sub\":\"mallory\",\"hub:pub\":[\">\"]}"),
            ["a token without sub"] = NoExpiry("{\"hub:pub\":[\">\"],\"hub:sub\":[\">\"],\"exp\":4102444800}"),
            ["a token with an empty sub"] = NoExpiry("{\"sub\":\" \",\"hub:pub\":[\">\"],\"hub:sub\":[\">\"],\"exp\":4102444800}"),
            ["a token claiming an API key's subject"] = Credentials.Token("key:orders", subscribe: [">"], publish: [">"]),
            ["a token claiming the in-process publisher's subject"] = Credentials.Token("in-process:", subscribe: [">"], publish: [">"]),
            ["a token not yet valid"] = NotYetValid(),
            ["a JWT-shaped garbage value"] = "a.b.c",
            ["two dots alone"] = "..",
            ["a header-only token"] = parts[0],
        };
        foreach (var (name, token) in badTokens)
        {
            cases.Add($"auth: publish with {name}", new("POST", "api/events", token, orders));
            cases.Add($"auth: read with {name}", new("GET", "api/events?topic=orders.>", token, null, null));
        }

        cases.Add("auth: Basic credentials", new("POST", "api/events", null, orders, Headers: [new("Authorization", "Basic dXNlcjpwYXNz")]));
        cases.Add("auth: two X-Api-Key headers", new("POST", "api/events", null, orders, Headers: [new("X-Api-Key", Admin), new("X-Api-Key", Admin)]));
        cases.Add("auth: a token as X-Api-Key", new("POST", "api/events", null, orders, Headers: [new("X-Api-Key", valid)]));
        cases.Add("auth: a token in the query string of a REST call", new("POST", "api/events?access_token=" + valid, null, orders));
        cases.Add("auth: an API key in the query string", new("GET", "api/subscriptions?access_token=" + Admin, null, null, null));

        var grantA = Credentials.Token("alice", subscribe: ["orders.*"], publish: ["orders.eu"]);
        foreach (var (name, request) in new Dictionary<string, HostileRequest>
        {
            ["publish to payments.card"] = new("POST", "api/events", grantA, "{\"topic\":\"payments.card\"}"u8.ToArray()),
            ["publish to orders.us"] = new("POST", "api/events", grantA, "{\"topic\":\"orders.us\"}"u8.ToArray()),
            ["publish orders.eu then payments.card in one batch"] = new("POST", "api/events", grantA, "[{\"topic\":\"orders.eu\"},{\"topic\":\"payments.card\"}]"u8.ToArray()),
            ["read payments.>"] = new("GET", "api/events?topic=payments.>", grantA, null, null),
            ["read orders.> (broader than orders.*)"] = new("GET", "api/events?topic=orders.>", grantA, null, null),
            ["read > (everything)"] = new("GET", "api/events?topic=%3E", grantA, null, null),
            ["read with no pattern (everything)"] = new("GET", "api/events", grantA, null, null),
            ["list subscriptions"] = new("GET", "api/subscriptions", grantA, null, null),
            ["delete a subscription"] = new("DELETE", "api/subscriptions/x", grantA, null, null),
            ["publish with the orders key to payments.card"] = new("POST", "api/events", Credentials.OrdersKey, "{\"topic\":\"payments.card\"}"u8.ToArray()),
            ["read with the orders key (no subscribe grant)"] = new("GET", "api/events?topic=orders.eu", Credentials.OrdersKey, null, null),
        })
        {
            cases.Add("grant for A used for B: " + name, request);
        }

        foreach (var id in new[] { "nope", "'; DROP TABLE subscriptions;--", "%00", "..%2F..%2Fetc", new string('x', 1000), "%E2%80%AE" })
        {
            cases.Add($"admin: delete subscription {Show(id)}", new("DELETE", "api/subscriptions/" + id, Admin, null, null));
        }

        return cases;
    }

    private static Dictionary<string, HostileFrame> BuildHub()
    {
        var cases = new Dictionary<string, HostileFrame>();
        var token = Credentials.Token("hostile", subscribe: ["hostile.>"]);
        void Frame(string name, string text) => cases.Add($"frame #{cases.Count}: {name}", new(Encoding.UTF8.GetBytes(text + "\u001e"), token));
        void Invoke(string name, string target, string arguments) =>
            Frame($"{target}({Show(arguments)}) {name}".TrimEnd(), $"{{\"type\":1,\"invocationId\":\"h\",\"target\":\"{target}\",\"arguments\":{arguments}}}");
        void Subscribe(string name, object request) => Invoke(name, "Subscribe", "[" + JsonSerializer.Serialize(request) + "]");

        foreach (var text in new[] { "{", "not json", "[]", "null", "1", "\"x\"", "{}", "{\"type\":\"1\"}", "{\"type\":99}", "{\"type\":-1}",
                     "{\"type\":1}", "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Nope\",\"arguments\":[]}",
                     "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Subscribe\"}", "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Subscribe\",\"arguments\":\"x\"}",
                     "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Subscribe\",\"arguments\":{}}", "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Watch\",\"arguments\":[]}",
                     "{\"type\":1,\"invocationId\":\"h\",\"target\":\"OnConnectedAsync\",\"arguments\":[]}", "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Dispose\",\"arguments\":[]}",
                     "{\"type\":4,\"invocationId\":\"h\",\"target\":\"Subscribe\",\"arguments\":[{\"topics\":[\"hostile.a\"]}]}",
                     "{\"type\":5,\"invocationId\":\"zz\"}", "{\"type\":2,\"invocationId\":\"zz\",\"item\":1}", "{\"type\":3,\"invocationId\":\"zz\",\"result\":1}",
                     "{\"type\":7}", "{\"protocol\":\"json\",\"version\":1}", "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Subscribe\",\"arguments\":[{\"topics\":[\"hostile.a\"]}],\"target\":\"Ask\"}" })
        {
            Frame(Show(text), text);
        }

        foreach (var arguments in new[] { "[]", "[1]", "[\"x\"]", "[null]", "[[]]", "[true]", "[{}]", "[{\"topics\":null}]", "[{\"topics\":\"hostile.a\"}]",
                     "[{\"topics\":[]}]", "[{\"topics\":[1]}]", "[{\"topics\":[null]}]", "[{\"topics\":[[]]}]", "[{\"topics\":[\"hostile.a\"]},1]" })
        {
            Invoke("", "Subscribe", arguments);
        }

        for (var i = 0; i < BadTopics.Length; i++)
        {
            Subscribe($"bad pattern #{i}", new { topics = new[] { BadTopics[i] } });
        }

        foreach (var pattern in new[] { "other.a", ">", "*.>", "hostile", "*", "*.a", "hostile.a.>.x" })
        {
            Subscribe($"pattern outside the grant {pattern}", new { topics = new[] { pattern } });
        }

        Subscribe("one covered and one uncovered pattern", new { topics = new[] { "hostile.a", "evil.a" } });
        Subscribe("65 patterns", new { topics = Enumerable.Range(0, 65).Select(i => $"hostile.t{i}").ToArray() });
        foreach (var (name, json) in new[]
                 {
                     ("maxDemand -1", "\"maxDemand\":-1"), ("maxDemand 0", "\"maxDemand\":0"), ("maxDemand 1e30", "\"maxDemand\":1e30"),
                     ("maxDemand as a string", "\"maxDemand\":\"10\""), ("maxDemand 3000000000", "\"maxDemand\":3000000000"), ("maxDemand 1.5", "\"maxDemand\":1.5"),
                     ("minDemand -1", "\"minDemand\":-1"), ("minDemand above maxDemand", "\"maxDemand\":10,\"minDemand\":11"), ("demand x", "\"demand\":\"x\""),
                     ("demand 1", "\"demand\":1"), ("overflow x", "\"overflow\":\"x\""), ("group with a space", "\"group\":\"a b\""), ("group 1", "\"group\":1"),
                     ("group of 200 characters", $"\"group\":\"{new string('g', 200)}\""), ("dispatch x", "\"dispatch\":\"x\""), ("dispatch demand without a group", "\"dispatch\":\"demand\""),
                     ("broadcast in a group", "\"group\":\"g\",\"dispatch\":\"broadcast\""), ("after -1", "\"after\":-1"), ("after as a string", "\"after\":\"0\""),
                     ("after 1.5", "\"after\":1.5"), ("after {}", "\"after\":{}"), ("types x", "\"types\":\"x\""), ("types [1]", "\"types\":[1]"),
                     ("types [\"\"]", "\"types\":[\"\"]"), ("65 types", "\"types\":[" + string.Join(",", Enumerable.Range(0, 65).Select(i => $"\"t{i}\"")) + "]"),
                     // Numbers past their setting (Hub:Limits:MaxAsk bounds maxDemand like Ask's n, and minDemand below it).
                     ("maxDemand 2147483647 (over MaxAsk)", "\"maxDemand\":2147483647"), ("maxDemand 1000001 (over MaxAsk)", "\"maxDemand\":1000001"),
                     ("maxDemand 2147483647 and minDemand 2147483646", "\"maxDemand\":2147483647,\"minDemand\":2147483646"),
                     ("minDemand 2147483647 alone", "\"minDemand\":2147483647"), ("minDemand 1000000 with the default maxDemand", "\"minDemand\":1000000"),
                     ("maxDemand 2147483647 in a group", "\"maxDemand\":2147483647,\"group\":\"hoard\""),
                     ("maxDemand 2147483647 in the good tenant's group", $"\"maxDemand\":2147483647,\"group\":\"{GoodGroup}\""),
                     ("after beyond the head", "\"after\":9223372036854775807"), ("epoch 1", "\"epoch\":1"), ("epoch of another log", "\"epoch\":\"another-log\""),
                     ("epoch of 200 characters", $"\"epoch\":\"{new string('e', 200)}\""),
                 })
        {
            Invoke(name, "Subscribe", "[{\"topics\":[\"hostile.a\"]," + json + "}]");
        }

        foreach (var arguments in new[] { "[]", "[\"nope\",1]", "[1,1]", "[null,1]", "[\"$SUB\",0]", "[\"$SUB\",-1]", "[\"$SUB\",1.5]", "[\"$SUB\",\"1\"]",
                     "[\"$SUB\",1e300]", "[\"$SUB\",2000000]", "[\"$SUB\",null]", "[\"$SUB\"]", "[\"$SUB\",9223372036854775807]", "[\"$SUB\",1,2]" })
        {
            Invoke("", "Ask", arguments);
        }

        foreach (var arguments in new[] { "[]", "[1]", "[null]", "[\"nope\"]", "[{}]", "[\"'; DROP TABLE subscriptions;--\"]" })
        {
            Invoke("", "Unsubscribe", arguments);
        }

        Invoke("nested 100 objects deep", "Subscribe", "[" + string.Concat(Enumerable.Repeat("{\"topics\":", 100)) + "1" + new string('}', 100) + "]");
        Invoke("nested 1,000 arrays deep", "Subscribe", "[" + new string('[', 1000) + new string(']', 1000) + "]");
        cases.Add("frame: invalid UTF-8 in a topic", new([.. "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Subscribe\",\"arguments\":[{\"topics\":[\"hostile."u8, 0xff, 0xfe, .. "\"]}]}\u001e"u8], token));
        cases.Add("frame: invalid UTF-8 alone", new([0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x1e], token));
        cases.Add("frame: record separators alone", new([0x1e, 0x1e, 0x1e], token));
        cases.Add("frame: no record separator, 100 KB", new(Encoding.UTF8.GetBytes(new string('{', 100_000)), token));
        foreach (var size in new[] { 70_000, 300_000, 1_048_576 })
        {
            cases.Add($"frame: {size:N0} bytes (over MaxHubMessageBytes)", new(Encoding.UTF8.GetBytes(
                "{\"type\":1,\"invocationId\":\"h\",\"target\":\"Subscribe\",\"arguments\":[{\"topics\":[\"hostile.a\"],\"types\":[\"" + new string('t', size) + "\"]}]}\u001e"), token));
        }

        // Connection attempts with bad credentials.
        var parts = token.Split('.');
        foreach (var (name, bad) in new Dictionary<string, string?>
        {
            ["no credentials"] = null,
            ["an expired token"] = Credentials.Token("hostile", subscribe: [">"], expires: DateTime.UtcNow.AddMinutes(-10)),
            ["a tampered token"] = parts[0] + "." + Credentials.Base64Url("{\"sub\":\"hostile\",\"hub:sub\":[\">\"],\"exp\":4102444800}") + "." + parts[2],
            ["an unsigned token"] = Credentials.UnsignedToken("{\"sub\":\"hostile\",\"hub:sub\":[\">\"],\"exp\":4102444800}"),
            ["a token signed with another key"] = Credentials.Token("hostile", subscribe: [">"], signingKey: "a-different-signing-key-0123456789-abcdefghijklm"),
            ["a token claiming an API key's subject"] = Credentials.Token("key:admin", subscribe: [">"]),
            ["a token claiming the in-process publisher's subject"] = Credentials.Token("in-process:", subscribe: [">"]),
            ["an API key as access_token"] = Credentials.AdminKey,
            ["garbage as access_token"] = "%%%",
        })
        {
            cases.Add($"connect: {name}", new(null, bad));
        }

        cases.Add("connect: a wrong X-Api-Key", new(null, null, Headers: [new("X-Api-Key", "wrong")]));
        cases.Add("connect: a bearer header with garbage", new(null, null, Headers: [new("Authorization", "Bearer x.y.z")]));
        cases.Add("connect: the dashboard without the admin grant", new(null, token, "hubs/dashboard"));
        cases.Add("connect: the dashboard with the orders key", new(null, null, "hubs/dashboard", [new("X-Api-Key", Credentials.OrdersKey)]));
        return cases;
    }

    private static byte[] Json(object value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private static string Show(string text)
    {
        var shown = new StringBuilder();
        foreach (var c in text.Length > 40 ? text[..37] + "..." : text)
        {
            shown.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return shown.ToString();
    }

    private static string Flip(string signature) => (signature[0] == 'A' ? 'B' : 'A') + signature[1..];

    private static string NoExpiry(string payload) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(payload,
            new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Credentials.SigningKey)), SecurityAlgorithms.HmacSha256));

    private static string NotYetValid()
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["sub"] = "mallory", ["hub:pub"] = new List<string> { ">" } },
            IssuedAt = now,
            NotBefore = now.AddHours(1),
            Expires = now.AddHours(2),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Credentials.SigningKey)), SecurityAlgorithms.HmacSha256),
        });
    }
}
