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
/// in order, and the log holds nothing but those (no hostile input appended anything).
/// </summary>
public sealed class HostileInputTests(HostileInputTests.HostileHub hub) : IClassFixture<HostileInputTests.HostileHub>
{
    private static readonly byte[] Pings = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"type\":6}\u001e", 4096 / 12)));

    public static TheoryData<string> RestCases => new(HostileCases.Rest.Keys);

    public static TheoryData<string> HubCases => new(HostileCases.Hub.Keys);

    [Fact]
    public void TheSuiteHoldsAtLeast200Cases() => Assert.True(HostileCases.Rest.Count + HostileCases.Hub.Count >= 200, $"{HostileCases.Rest.Count} + {HostileCases.Hub.Count}");

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
        if (!client.Closed.IsCompleted && probe.IsCompleted)
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

    /// <summary>The hub under attack, and one well-behaved subscriber that must miss nothing.</summary>
    public sealed class HostileHub : IAsyncLifetime
    {
        private readonly List<long> _published = [];
        private int _seen;
        private HubClient _watcher = null!;
        private SubscriptionLog _watching = null!;

        public TestHub Hub { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Hub = await TestHub.StartAsync(Credentials.RequiredSettings(), environment: "Production");
            _watcher = await HubClient.ConnectAsync(Hub.Address, headers: new Dictionary<string, string> { ["X-Api-Key"] = Credentials.AdminKey });
            _watching = await _watcher.SubscribeAsync(new SubscribeArgs([">"], MaxDemand: 100_000, MinDemand: 0));
        }

        /// <summary>Publishes one good event and checks the subscriber has every good event, in order, and the log
        /// nothing else.</summary>
        public async Task AssertStillServesAsync()
        {
            using var response = await Hub.Http.SendAsync(Credentials.Request(HttpMethod.Post, "api/events", Credentials.AdminKey,
                TestHub.Json(new { topic = "good.check", data = _published.Count })));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            _published.Add(answer.RootElement.GetProperty("events")[0].GetProperty("sequence").GetInt64());

            var sequence = _published[^1];
            await _watching.WaitUntilAsync(s => s.LastSequence >= sequence, TimeSpan.FromSeconds(30), $"sequence {sequence}");
            var received = _watching.Sequences;
            var since = received.Skip(_seen).ToArray();
            _seen = received.Count; // a case that fails here does not fail the ones after it
            Assert.Equal([sequence], since); // the good event arrived, and nothing a hostile input could have appended
            Assert.Equal(_published, received.Where(_published.Contains)); // every good event so far, in order
            Assert.Empty(_watching.Violations);
            Assert.Null(_watching.EndedReason);
        }

        public async Task DisposeAsync()
        {
            await _watcher.DisposeAsync();
            await Hub.DisposeAsync();
        }
    }
}
