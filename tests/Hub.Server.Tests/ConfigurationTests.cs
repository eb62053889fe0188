using System.Reflection;
using System.Text.Json;
using Hub.Server.Auth;
using Hub.Server.Limits;
using Hub.Log;
using Hub.Server.Publishing;
using Hub.Server.Subscriptions;
using Hub.Server.Telemetry;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests;

/// <summary>
/// The settings: <c>appsettings.json</c> lists every option with its default, the README's table has a row for each,
/// and a bad value stops the start with a message naming its key.
/// </summary>
public sealed class ConfigurationTests
{
    private static readonly (Type Type, string Section)[] OptionsClasses =
    [
        (typeof(EventLogOptions), EventLogOptions.Section),
        (typeof(PublishOptions), PublishOptions.Section),
        (typeof(DeliveryOptions), DeliveryOptions.Section),
        (typeof(CorsSettings), CorsSettings.Section),
        (typeof(HubTelemetryOptions), HubTelemetryOptions.Section),
        (typeof(AuthOptions), AuthOptions.Section),
        (typeof(LimitsOptions), LimitsOptions.Section),
    ];

    /// <summary>
    /// Options with no fixed default, so not in <c>appsettings.json</c> (a value there would override the environment's
    /// choice or hand out a key): the README's table still has their rows.
    /// </summary>
    private static readonly string[] NotInAppSettings = ["Hub:Auth:Mode", "Hub:Auth:SigningKey", "Hub:Auth:Issuer", "Hub:Auth:Audience"];

    private static string AppSettingsPath => Path.Combine(AppContext.BaseDirectory, "appsettings.json");

    [Fact]
    public void AppSettings_ListsEveryOption_AndNothingElse()
    {
        var expected = OptionsClasses.SelectMany(c => OptionKeys(c.Type, c.Section)).Except(NotInAppSettings).Order(StringComparer.Ordinal).ToArray();
        using var document = JsonDocument.Parse(File.ReadAllText(AppSettingsPath));
        var listed = LeafKeys(document.RootElement.GetProperty("Hub"), "Hub").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, listed);
    }

    [Fact]
    public void AppSettings_GivesEachOptionItsDefault()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(AppSettingsPath).Build();
        foreach (var (type, section) in OptionsClasses.Where(c => c.Type != typeof(CorsSettings)))
        {
            var bound = configuration.GetSection(section).Get(type)!;
            Assert.Equal(JsonSerializer.Serialize(Activator.CreateInstance(type), type), JsonSerializer.Serialize(bound, type));
        }

        Assert.Empty(configuration.GetSection(CorsSettings.Section).Get<CorsSettings>()?.AllowedOrigins ?? []);
    }

    [Fact]
    public void Readme_HasARowForEveryOption()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var missing = OptionsClasses.SelectMany(c => OptionKeys(c.Type, c.Section)).Where(key => !readme.Contains($"| `{key}` |", StringComparison.Ordinal)).ToArray();
        Assert.True(missing.Length == 0, "README's configuration table has no row for " + string.Join(", ", missing));
    }

    [Theory]
    [InlineData("Hub:Telemetry:Endpoint", "collector:4318")]
    [InlineData("Hub:Telemetry:Protocol", "udp")]
    [InlineData("Hub:Cors:AllowedOrigins:0", "https://app.example.com/path")]
    [InlineData("Hub:Log:DedupWindow", "-00:00:01")]
    [InlineData("Hub:Publish:MaxBatchEvents", "0")]
    [InlineData("Hub:Subscriptions:MaxPerConnection", "0")]
    [InlineData("Hub:Log:Retention:MaxEvents", "0")]
    [InlineData("Hub:Limits:MaxAsk", "0")]
    [InlineData("Hub:Publish:MaxEventBytes", "0")]
    [InlineData("Hub:Log:MaxDedupEntries", "0")]
    [InlineData("Hub:Log:MaxTopics", "9")]
    [InlineData("Hub:Log:MaxGroupPositions", "0")]
    [InlineData("Hub:Limits:MaxReadEvents", "0")]
    [InlineData("Hub:Limits:MaxSubscribeTopics", "0")]
    [InlineData("Hub:Limits:MaxSubscribeTypes", "0")]
    [InlineData("Hub:Log:MaxScanEvents", "99")]
    [InlineData("Hub:Log:MaxPageBytes", "1023")]
    [InlineData("Hub:Log:Postgres:TailEvents", "15")]
    [InlineData("Hub:Log:Postgres:MaxPendingEvents", "0")]
    [InlineData("Hub:Log:Postgres:MaxGroupEvents", "0")]
    [InlineData("Hub:Log:Postgres:PollInterval", "00:00:00.001")]
    [InlineData("Hub:Log:Postgres:GroupLeaseTime", "00:00:00.100")]
    [InlineData("Hub:Log:Postgres:GroupRenewInterval", "00:00:03")]
    [InlineData("Hub:Log:Sqlite:Durability", "Full")]
    [InlineData("Hub:Log:Sqlite:ReserveBytes", "-1")]
    [InlineData("Hub:Log:Sqlite:ReserveBytes", "1073741825")]
    [InlineData("Hub:Log:Sqlite:Synchronous", "Normal")] // retired: Durability replaced it, and its message says so
    public async Task BadSetting_StopsTheStart_NamingTheKey(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = HubApplication.Create(["--urls", "http://127.0.0.1:0", "--environment", "Development", "--Hub:Log:Kind=Memory", $"--{key}={value}"]);
            await app.StartAsync();
        });
        Assert.True(error.Message.Contains(key, StringComparison.Ordinal), error.Message);
    }

    [Fact]
    public async Task BadTelemetryEndpoint_StopsTheProcess_WithExitCode2_AndTheKey()
    {
        var directory = Directory.CreateTempSubdirectory("hub-config-").FullName;
        try
        {
            var (exitCode, output) = await HubProcess.RunExpectingExitAsync(directory, new Dictionary<string, string>
            {
                ["Hub:Log:Kind"] = "Memory",
                ["Hub:Telemetry:Endpoint"] = "not a url",
            });
            Assert.Equal(2, exitCode);
            Assert.Contains("Hub cannot start: ", output, StringComparison.Ordinal);
            Assert.Contains("Hub:Telemetry:Endpoint", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The configuration keys of an options class: its public settable properties, nested classes flattened.</summary>
    private static IEnumerable<string> OptionKeys(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            var t = property.PropertyType;
            var leaf = t.IsPrimitive || t.IsEnum || t.IsArray || t == typeof(string) || t == typeof(TimeSpan) || Nullable.GetUnderlyingType(t) is not null;
            var key = $"{prefix}:{property.Name}";
            if (leaf)
            {
                yield return key;
            }
            else
            {
                foreach (var nested in OptionKeys(t, key))
                {
                    yield return nested;
                }
            }
        }
    }

    private static IEnumerable<string> LeafKeys(JsonElement element, string prefix) =>
        element.ValueKind == JsonValueKind.Object
            ? element.EnumerateObject().SelectMany(p => LeafKeys(p.Value, $"{prefix}:{p.Name}"))
            : [prefix];

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Hub.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("Hub.sln is not above " + AppContext.BaseDirectory);
    }
}
