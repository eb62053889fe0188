using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Security;

/// <summary>The hub as a process: safe by default outside Development, loud about it in Development.</summary>
public sealed class AuthStartupTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("hub-auth-").FullName;

    [Fact]
    public async Task Production_WithoutKeysOrASigningKey_RefusesToStart_NamingTheSetting_ExitCode2()
    {
        var (exitCode, output) = await HubProcess.RunExpectingExitAsync(_directory, Settings(new() { ["environment"] = "Production" }), Deadline);
        Assert.Equal(2, exitCode);
        Assert.Contains("Hub cannot start: Hub:Auth: Mode is Required", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Hub:Auth:ApiKeys:0:Sha256", "not-a-hash", "Hub:Auth:ApiKeys:0:Sha256")]
    [InlineData("Hub:Auth:SigningKey", "short", "Hub:Auth:SigningKey")]
    [InlineData("Hub:Auth:ApiKeys:0:Publish:0", "orders.>.x", "Hub:Auth:ApiKeys:0:Publish:0")]
    public async Task BadAuthSettings_StopTheStart_NamingTheKey(string key, string value, string named)
    {
        var settings = Settings(new()
        {
            ["environment"] = "Production",
            ["Hub:Auth:ApiKeys:0:Name"] = "k",
            ["Hub:Auth:ApiKeys:0:Sha256"] = Credentials.Sha256("k"),
        });
        settings[key] = value;
        var (exitCode, output) = await HubProcess.RunExpectingExitAsync(_directory, settings, Deadline);
        Assert.Equal(2, exitCode);
        Assert.Contains("Hub cannot start: ", output, StringComparison.Ordinal);
        Assert.Contains(named, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Development_RunsWithoutCredentials_AndWarnsAtStart()
    {
        await using var hub = await HubProcess.StartAsync(_directory, Settings(new() { ["environment"] = "Development" }), Deadline);
        using var http = new HttpClient { BaseAddress = hub.Address };
        using var response = await http.PostAsync("api/events", TestHub.Json(new { topic = "dev.mode" }));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("Hub:Auth:Mode is None", hub.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Dictionary<string, string> Settings(Dictionary<string, string> more)
    {
        more["Hub:Log:Sqlite:Path"] = Path.Combine(_directory, "hub.db");
        return more;
    }
}
