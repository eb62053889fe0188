using Hub.Server.Handlers;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Handlers;

/// <summary>A handler's name and settings are checked before it runs, and the message names the handler or the key.</summary>
public sealed class HandlerOptionsTests
{
    [Fact]
    public void AddHandler_RefusesADuplicateOrInvalidName_NamingIt()
    {
        var hub = new HubBuilder(new ServiceCollection(), new ConfigurationBuilder().Build());
        hub.AddHandler<FastHandler>("billing", o => o.Topics.Add("orders.>"));

        var duplicate = Assert.Throws<ArgumentException>(() => hub.AddHandler<SlowHandler>("billing", o => o.Topics.Add("orders.>")));
        Assert.Contains("'billing'", duplicate.Message, StringComparison.Ordinal);
        var invalid = Assert.Throws<ArgumentException>(() => hub.AddHandler<SlowHandler>("bill.ing"));
        Assert.Contains("'bill.ing'", invalid.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxConcurrency", "0", "Hub:Handlers:fast:MaxConcurrency")]
    [InlineData("MinDemand", "100", "Hub:Handlers:fast:MinDemand")]
    [InlineData("MaxAttempts", "0", "Hub:Handlers:fast:MaxAttempts")]
    [InlineData("Topics:0", "orders..eu", "Hub:Handlers:fast:Topics:1")]
    public async Task ABadSetting_StopsTheStart_NamingTheKey(string setting, string value, string key)
    {
        var start = HandlerStageTests.StartAsync(new HandlerProbes(), h => h.AddHandler<FastHandler>(FastHandler.Name, o => o.Topics.Add("orders.>")), new()
        {
            ["Hub:Log:Kind"] = "Memory",
            [$"Hub:Handlers:fast:{setting}"] = value,
        });
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () => await (await start).DisposeAsync());
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }
}
