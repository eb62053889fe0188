using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Security;

/// <summary>
/// One hub (Production, credentials required) takes every hostile input of <see cref="HostileCases"/>. Each REST case
/// gets a 4xx problem+json and each hub case a hub error or a closed connection, never a 5xx, a success or a crash;
/// after each, a well-behaved publisher and subscriber still work: the subscriber has every event published so far,
/// in order, and the log holds nothing but those (no hostile input appended anything). The cross-tenant cases come
/// from another tenant whose grants allow them: they may succeed, as that tenant's own, but never show the good
/// tenant's events, topics or subscriptions, and the good tenant's publisher (one predictable idempotency key per
/// publish) and group member (group <c>good</c>) still get every event, once, in order.
/// </summary>
public sealed class HostileInputTests(HostileInputTests.HostileHub hub) : IClassFixture<HostileInputTests.HostileHub>
{
    private static readonly byte[] Pings = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"type\":6}\u001e", 4096 / 12)));

    public static TheoryData<string> RestCases => new(HostileCases.Rest.Keys);

    public static TheoryData<string> HubCases => new(HostileCases.Hub.Keys);

    public static TheoryData<string> CrossTenantRestCases => new(HostileCases.CrossTenantRest.Keys);

    public static TheoryData<string> CrossTenantHubCases => new(HostileCases.CrossTenantHub.Keys);

    [Fact]
    public void TheSuiteHoldsAtLeast200Cases() => Assert.True(HostileCases.Rest.Count + HostileCases.Hub.Count >= 200, $"{HostileCases.Rest.Count} + {HostileCases.Hub.Count}");

    [Theory]
    [MemberData(nameof(CrossTenantRestCases))]
    public async Task CrossTenantRequest_IsAnsweredAsItsOwn_ShowsNothingOfTheGoodTenant_AndTheGoodTenantLosesNothing(string name)
    {
        var input = HostileCases.CrossTenantRest[name];
        using var request = new HttpRequestMessage(new HttpMethod(input.Method), input.Path);
        if (input.Body is not null)
        {
            request.Content = new ByteArrayContent(input.Body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", input.ContentType);
        }

        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + input.Bearer);
        foreach (var (header, value) in input.Headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(header, value.Replace("$LAST_KEY", hub.LastKey, StringComparison.Ordinal).Replace("$NEXT_KEY", hub.NextKey, StringComparison.Ordinal));
        }

        using var response = await hub.Hub.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 200 and < 300, $"{name}: answered {(int)response.StatusCode}: {body}"); // allowed to it, as its own
        hub.AssertShowsNothingOfTheGoodTenant(name, body, sent: input.Path);

        // What it appended is its own, and the only thing besides the good events the subscriber may see.
        var appended = new List<long>();
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            using var answer = JsonDocument.Parse(body);
            appended.AddRange(answer.RootElement.GetProperty("events").EnumerateArray().Where(e => !e.GetProperty("duplicate").GetBoolean()).Select(e => e.GetProperty("sequence").GetInt64()));
            Assert.NotEmpty(appended); // its first publish with any key is a publish of its own, never another's answer
        }

        await hub.AssertStillServesAsync(appended);
    }

    [Theory]
    [MemberData(nameof(CrossTenantHubCases))]
    public async Task CrossTenantInvocation_IsAnsweredAsItsOwn_ShowsNothingOfTheGoodTenant_AndTheGoodTenantLosesNothing(string name)
    {
        var input = HostileCases.CrossTenantHub[name];
        await using var client = await HubClient.ConnectAsync(hub.Hub.Address, input.Path, input.Token);
        var answer = client.Pending("h");
        await client.SendFrameAsync(input.Frame!);
        string shown;
        try
        {
            shown = (await answer.WaitAsync(TimeSpan.FromSeconds(30))).GetRawText();
        }
        catch (HubInvocationException ex)
        {
            shown = ex.Message;
        }

        hub.AssertShowsNothingOfTheGoodTenant(name, shown, sent: Encoding.UTF8.GetString(input.Frame!));
        await hub.AssertStillServesAsync();
    }

    [Theory]
    [MemberData(nameof(RestCases))]
    public async Task RestInput_Answers4xxProblem_AndTheHubStillServes(string name)
    {
        var input = HostileCases.Rest[name];
        using var request = new HttpRequestMessage(new HttpMethod(input.Method), input.Path);
        if (input.Body is not null)
        {
            request.Content = new ByteArrayContent(input.Body);
            if (input.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", input.ContentType);
            }
        }

        if (input.Bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + input.Bearer);
        }

        foreach (var (header, value) in input.Headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await hub.Hub.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{name}: answered {(int)response.StatusCode}: {body}");
        if (body.Length == 0)
        {
            // Kestrel itself refuses a request line it cannot take (a %00 in the path) before any of the hub's code runs.
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        else
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(body);
            Assert.Equal((int)response.StatusCode, problem.RootElement.GetProperty("status").GetInt32());
        }

        await hub.AssertStillServesAsync();
    }

    [Theory]
    [MemberData(nameof(HubCases))]
    public async Task HubInput_GetsAHubErrorOrAClosedConnection_AndTheHubStillServes(string name)
    {
        var input = HostileCases.Hub[name];
        var headers = input.Headers?.ToDictionary(h => h.Key, h => h.Value);
        if (input.Frame is null)
        {
            // A connection attempt alone: refused at the WebSocket upgrade (401 or 403).
            await Assert.ThrowsAsync<WebSocketException>(() => HubClient.ConnectAsync(hub.Hub.Address, input.Path, input.Token, headers));
            await hub.AssertStillServesAsync();
            return;
        }

        await using var client = await HubClient.ConnectAsync(hub.Hub.Address, input.Path, input.Token, headers);
        var frame = input.Frame;
        var text = Encoding.UTF8.GetString(frame);
        if (text.Contains("$SUB", StringComparison.Ordinal))
        {
            var own = await client.SubscribeAsync(new SubscribeArgs(["hostile.a"], Demand: "manual"));
            frame = Encoding.UTF8.GetBytes(text.Replace("$SUB", own.Id, StringComparison.Ordinal));
        }

        var hostile = client.Pending("h");
        Task probe;
        try
        {
            await client.SendFrameAsync(frame);
            // Invocations are handled in order: once this probe is answered, the hostile one was too.
            probe = client.InvokeAsync("Unsubscribe", "no-such-subscription");
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            probe = Task.FromException(ex); // the server closed the socket while the frame was being sent
        }

        // SignalR's parser stops at a message of an unknown type and reads that connection no further; what the client
        // sends after it piles up until it passes MaxHubMessageBytes, and the connection is closed. Pings (valid,
        // harmless messages, 4 KB at a time) bring that about, and for every other case cost nothing.
        await Eventually.TrueAsync(async () =>
        {
            if (probe.IsCompleted || client.Closed.IsCompleted)
            {
                return true;
            }

            try
            {
                await client.SendFrameAsync(Pings);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }

            return false;
        }, $"{name}: the probe answered or the connection closed", TimeSpan.FromSeconds(30));
        // A probe whose frame could not be sent found the socket closed by the hub: the connection is closing (its Closed
        // may be signalled a moment after the send failed), which the else branch waits for.
        var probeFoundItClosed = probe.IsFaulted && probe.Exception!.InnerException is WebSocketException or ObjectDisposedException;
        if (!client.Closed.IsCompleted && probe.IsCompleted && !probeFoundItClosed)
        {
            // The connection lives on: it must still answer, with an error for the unknown subscription.
            var error = await Assert.ThrowsAsync<HubInvocationException>(() => probe);
            Assert.Contains("subscriptionId", error.Message);
        }
        else
        {
            await client.Closed.WaitAsync(TimeSpan.FromSeconds(30));
        }

        if (hostile.IsCompletedSuccessfully)
        {
            Assert.Fail($"{name}: the hostile invocation succeeded: {(await hostile).GetRawText()}");
        }

        await hub.AssertStillServesAsync();
    }

    /// <summary>The hub under attack, and the good tenant: a publisher, one subscriber and one group member that must
    /// miss nothing.</summary>
    public sealed class HostileHub : IAsyncLifetime
    {
        private const string GoodTopic = "good.check";
        private readonly List<long> _published = [];
        private int _seen;
        private HubClient _watcher = null!;
        private SubscriptionLog _watching = null!;
        private HubClient _worker = null!;
        private SubscriptionLog _member = null!;

        public TestHub Hub { get; private set; } = null!;

        /// <summary>The good publisher's last <c>Idempotency-Key</c> (before its first publish: the one it will use first).</summary>
        public string LastKey => HostileCases.GoodKeyPrefix + Math.Max(1, _published.Count);

        /// <summary>The good publisher's next <c>Idempotency-Key</c>.</summary>
        public string NextKey => HostileCases.GoodKeyPrefix + (_published.Count + 1);

        public async Task InitializeAsync()
        {
            Hub = await TestHub.StartAsync(Credentials.RequiredSettings(), environment: "Production");
            _watcher = await HubClient.ConnectAsync(Hub.Address, headers: new Dictionary<string, string> { ["X-Api-Key"] = Credentials.AdminKey });
            _watching = await _watcher.SubscribeAsync(new SubscribeArgs([">"], MaxDemand: 100_000, MinDemand: 0));
            _worker = await HubClient.ConnectAsync(Hub.Address, accessToken: Credentials.Token("good-worker", subscribe: [HostileCases.GoodTopics]));
            _member = await _worker.SubscribeAsync(new SubscribeArgs([HostileCases.GoodTopics], MaxDemand: 10, Group: HostileCases.GoodGroup),
                (log, n) => _ = _worker.AskAsync(log, n));
        }

        /// <summary>Fails when <paramref name="shown"/> (an answer to another tenant) holds the good tenant's topic, its
        /// group's topics or its member's id, unless the other tenant sent that text itself.</summary>
        public void AssertShowsNothingOfTheGoodTenant(string name, string shown, string sent)
        {
            foreach (var secret in new[] { GoodTopic, HostileCases.GoodTopics, _member.Id })
            {
                if (!sent.Contains(secret, StringComparison.Ordinal))
                {
                    Assert.False(shown.Contains(secret, StringComparison.Ordinal), $"{name}: the answer shows '{secret}': {shown}");
                }
            }
        }

        /// <summary>Publishes one good event with the good publisher's next key and checks that it was appended and
        /// answered as the good tenant's own, that the subscriber has every good event, in order, and the log nothing
        /// else but <paramref name="alsoAppended"/>, and that the group member has every good event once, in order.</summary>
        public async Task AssertStillServesAsync(IReadOnlyList<long>? alsoAppended = null)
        {
            var key = NextKey;
            using var request = Credentials.Request(HttpMethod.Post, "api/events", Credentials.AdminKey, TestHub.Json(new { topic = GoodTopic, data = _published.Count }));
            request.Headers.Add("Idempotency-Key", key);
            using var response = await Hub.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"the good publish answered {(int)response.StatusCode}: {text}");
            using var answer = JsonDocument.Parse(text);
            var published = answer.RootElement.GetProperty("events")[0];
            Assert.Equal((GoodTopic, false), (published.GetProperty("topic").GetString(), published.GetProperty("duplicate").GetBoolean())); // its own, appended
            _published.Add(published.GetProperty("sequence").GetInt64());

            var sequence = _published[^1];
            await _watching.WaitUntilAsync(s => s.LastSequence >= sequence, TimeSpan.FromSeconds(30), $"sequence {sequence}");
            var received = _watching.Sequences;
            var since = received.Skip(_seen).ToArray();
            _seen = received.Count; // a case that fails here does not fail the ones after it
            Assert.Equal([.. alsoAppended ?? [], sequence], since); // the good event arrived, and nothing a hostile input could have appended
            Assert.Equal(_published, received.Where(_published.Contains)); // every good event so far, in order
            Assert.Empty(_watching.Violations);
            Assert.Null(_watching.EndedReason);

            await _member.WaitUntilAsync(s => s.LastSequence >= sequence, TimeSpan.FromSeconds(30), $"the group member has {sequence}");
            Assert.Equal(_published, _member.Sequences);
            Assert.Empty(_member.Violations);
            Assert.Null(_member.EndedReason);
        }

        public async Task DisposeAsync()
        {
            await _worker.DisposeAsync();
            await _watcher.DisposeAsync();
            await Hub.DisposeAsync();
        }
    }
}
