using Hub.Server.Auth;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Auth;

public sealed class ApiKeyStoreTests
{
    private static ApiKeyStore Store(params (string Name, string Key)[] keys) => new(Options.Create(new AuthOptions
    {
        ApiKeys = keys.Select((k, i) => new ApiKeyOptions { Name = k.Name, Sha256 = i % 2 == 0 ? Credentials.Sha256(k.Key) : Credentials.Sha256(k.Key).ToLowerInvariant() }).ToArray(),
    }));

    [Fact]
    public void Find_MatchesAKeyByItsSha256_InUpperOrLowerCaseHex()
    {
        var store = Store(("first", "key-one"), ("second", "key-two"), ("third", "key-three"));
        Assert.Equal("first", store.Find("key-one")?.Name);
        Assert.Equal("second", store.Find("key-two")?.Name);
        Assert.Equal("third", store.Find("key-three")?.Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("key-on")]
    [InlineData("key-one ")]
    [InlineData("KEY-ONE")]
    public void Find_RefusesAnyOtherValue(string presented) => Assert.Null(Store(("first", "key-one")).Find(presented));

    [Fact]
    public void Find_RefusesAKeyLongerThanTheLimit_EvenIfConfigured()
    {
        var longKey = new string('k', ApiKeyStore.MaxKeyLength + 1);
        Assert.Null(Store(("long", longKey)).Find(longKey));
        var atLimit = new string('k', ApiKeyStore.MaxKeyLength);
        Assert.Equal("ok", Store(("ok", atLimit)).Find(atLimit)?.Name);
    }
}
