namespace Hub.Server.Health;

/// <summary>
/// <c>dotnet Hub.Server.dll --health-check URL</c>: asks a running hub's health endpoint and exits 0 on 200, 1
/// otherwise. The container's <c>HEALTHCHECK</c> uses it, as the ASP.NET Core runtime image has no curl or wget.
/// </summary>
internal static class HealthProbe
{
    /// <summary>The argument that selects this mode.</summary>
    public const string Argument = "--health-check";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>Answers the exit code: 0 when <paramref name="url"/> answers 200, 1 when it answers anything else or nothing.</summary>
    public static async Task<int> RunAsync(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            await Console.Error.WriteLineAsync($"{Argument}: '{url}' is not an http:// or https:// address").ConfigureAwait(false);
            return 2;
        }

        try
        {
            using var http = new HttpClient { Timeout = Timeout };
            using var response = await http.GetAsync(uri).ConfigureAwait(false);
            Console.WriteLine($"{uri} answered {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"{uri} did not answer: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
