using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Groups;

/// <summary>A member that leaves on purpose (<c>Unsubscribe</c>) or is ended by an operator
/// (<c>DELETE /api/subscriptions/{id}</c>): what it held unacknowledged goes to the members that stay, marked
/// redelivered, and the group lists it no more.</summary>
public sealed class GroupLeaveTests
{
    private static bool IsRedelivered(JsonElement e) => e.TryGetProperty("redelivered", out var r) && r.GetBoolean();

    [Theory]
    [InlineData("unsubscribe")]
    [InlineData("delete")]
    public async Task MemberLeaves_ItsUnacknowledgedEventsGoToTheStayingMember_MarkedRedelivered(string how)
    {
        await using var hub = await TestHub.StartAsync();
        await using var leavingClient = await hub.ConnectAsync();
        await using var stayingClient = await hub.ConnectAsync();

        // The leaving member joins first and takes a window of 40 it never acknowledges; the staying one joins with no
        // credits, so every event first goes to the leaver.
        var leaving = await leavingClient.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 40, Group: "leavers"));
        var staying = await stayingClient.SubscribeAsync(new SubscribeArgs(["work.*"], Demand: "manual", MaxDemand: 100, Group: "leavers"));
        var published = await hub.PublishManyAsync("work.item", 40);
        await leaving.WaitForCountAsync(40);
        Assert.Equal(published, leaving.Sequences);

        if (how == "unsubscribe")
        {
            await leavingClient.UnsubscribeAsync(leaving);
        }
        else
        {
            using var deleted = await hub.Http.DeleteAsync($"api/subscriptions/{leaving.Id}");
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            await leaving.WaitForEndedAsync();
        }

        await stayingClient.AskAsync(staying, 100);
        await staying.WaitForCountAsync(40);
        Assert.Equal(published, staying.Sequences);
        Assert.All(staying.Events, e => Assert.True(IsRedelivered(e), $"{e.GetProperty("sequence")} was held by the member that left"));

        var group = Assert.Single(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []);
        Assert.Equal([staying.Id], group.GetProperty("members").EnumerateArray().Select(m => m.GetString()));
        Assert.DoesNotContain(await hub.GetSubscriptionsAsync(), s => s.GetProperty("id").GetString() == leaving.Id);
    }
}
