using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>
/// No Docker engine runs here, so the container's build is checked by running its publish step as the Dockerfile
/// writes it (read from the Dockerfile, only <c>-o /app</c> pointed at a temporary folder) and starting what it
/// produced as the container runs it (Production, with a signing key): <c>/health/ready</c> answers 200, and the image's <c>HEALTHCHECK</c> command (the
/// hub's own probe mode) exits 0 against it and 1 once it has stopped. The same output then runs as two nodes on one
/// PostgreSQL log, configured only by the environment variables a container would be given.
/// </summary>
public sealed class DockerfilePublishTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);
    private readonly string _output = Directory.CreateTempSubdirectory("hub-publish-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(_output, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public void Dockerfile_BuildsOnTheSdk_RunsOnAspNetAsNonRoot_WithAVolume_APort_AndAHealthcheckOnReady()
    {
        var lines = File.ReadAllLines(DockerfilePath);
        Assert.Contains(lines, l => l.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:", StringComparison.Ordinal));
        Assert.Contains("USER $APP_UID", lines);
        Assert.Contains("EXPOSE 5080", lines);
        Assert.Contains("VOLUME /app/data", lines);
        Assert.Contains(lines, l => l.Contains("CMD [\"dotnet\", \"Hub.Server.dll\", \"--health-check\", \"http://127.0.0.1:5080/health/ready\"]", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheDockerfilesPublishCommand_ProducesAHubThatStartsAndIsReady()
    {
        var command = PublishCommand();
        var (exitCode, output) = await RunAsync(RepositoryRoot, command);
        Assert.True(exitCode == 0, $"`dotnet {string.Join(' ', command)}` exited with {exitCode}:\n{output}");
        var dll = Path.Combine(_output, "Hub.Server.dll");
        Assert.True(File.Exists(Path.Combine(_output, "appsettings.json")), "appsettings.json is not in the published output");
        Assert.True(File.Exists(Path.Combine(_output, "wwwroot", "lib", "signalr.min.js")), "the pages' scripts are not in the published output");

        string ready;
        // As the container runs it: Production, where credentials are required (a signing key is the least to give).
        var production = new Dictionary<string, string> { ["environment"] = "Production", ["Hub:Auth:SigningKey"] = Credentials.SigningKey };
        await using (var hub = await HubProcess.StartAsync(_output, production, serverDll: dll))
        {
            ready = new Uri(hub.Address, "health/ready").ToString();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var response = await http.GetAsync(ready);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(File.Exists(Path.Combine(_output, "data", "hub.db")), "the default log is not data/hub.db under the published folder");

            var probe = await RunAsync(_output, [dll, "--health-check", ready]);
            Assert.True(probe.ExitCode == 0, $"the healthcheck command exited with {probe.ExitCode}:\n{probe.Output}");
            Assert.True(await hub.StopAsync(TimeSpan.FromSeconds(30)), hub.Output);
        }

        var down = await RunAsync(_output, [dll, "--health-check", ready]);
        Assert.True(down.ExitCode == 1, $"the healthcheck command exited with {down.ExitCode} against a stopped hub:\n{down.Output}");

        // Several nodes from the same output, unchanged: the two settings as environment variables, as `docker run -e`
        // gives them. Both are ready (and the HEALTHCHECK passes), and an event published on one is read on the other.
        await using var database = await PostgresDatabase.CreateAsync();
        var asContainer = new Dictionary<string, string>
        {
            ["Hub__Log__Kind"] = "Postgres",
            ["Hub__Log__Postgres__ConnectionString"] = database.ConnectionString,
        };
        await using var a = await HubProcess.StartAsync(_output, production, serverDll: dll, environment: asContainer);
        await using var b = await HubProcess.StartAsync(_output, production, serverDll: dll, environment: asContainer);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", Credentials.Token("docker", subscribe: [">"], publish: [">"]));
        foreach (var node in new[] { a, b })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(node.Address, "health/ready"))).StatusCode);
            var probe = await RunAsync(_output, [dll, "--health-check", new Uri(node.Address, "health/ready").ToString()]);
            Assert.True(probe.ExitCode == 0, $"the healthcheck command exited with {probe.ExitCode}:\n{probe.Output}");
        }

        using (var published = await client.PostAsync(new Uri(a.Address, "api/events"), TestHub.Json(new { topic = "docker.nodes", id = "on-a" })))
        {
            Assert.True(published.StatusCode == HttpStatusCode.Accepted, $"{(int)published.StatusCode}: {await published.Content.ReadAsStringAsync()}\n{a.Output}");
        }

        // B learns of A's append from PostgreSQL's feed, a moment later (a read on B may trail a publish on A by that much).
        string[] onB = [];
        await Eventually.TrueAsync(async () =>
        {
            using var read = JsonDocument.Parse(await client.GetStringAsync(new Uri(b.Address, "api/events?after=0")));
            onB = [.. read.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!)];
            return onB.Length > 0;
        }, "B reads the event published on A", TimeSpan.FromSeconds(30));
        Assert.Equal(["on-a"], onB);
    }

    /// <summary>The Dockerfile's <c>RUN dotnet publish …</c>, its arguments as written, with <c>-o</c> pointed here.</summary>
    private string[] PublishCommand()
    {
        var line = Assert.Single(File.ReadAllLines(DockerfilePath), l => l.StartsWith("RUN dotnet publish ", StringComparison.Ordinal));
        var arguments = line["RUN dotnet ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var output = Array.IndexOf(arguments, "-o");
        Assert.True(output > 0 && output < arguments.Length - 1, $"the publish line has no -o: {line}");
        arguments[output + 1] = _output;
        return arguments;
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/>; no build servers are left running after it.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(string directory, string[] arguments)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string DockerfilePath => Path.Combine(RepositoryRoot, "Dockerfile");

    private static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Dockerfile")) && File.Exists(Path.Combine(directory.FullName, "Hub.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new DirectoryNotFoundException("the repository (Dockerfile, Hub.sln) is not above " + AppContext.BaseDirectory);
        }
    }
}
