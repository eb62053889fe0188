using Microsoft.Extensions.Options;

namespace Hub.Server;

/// <summary>Stops the start on an allowed origin that a browser could never send, naming the key.</summary>
internal sealed class CorsSettingsValidator : IValidateOptions<CorsSettings>
{
    public ValidateOptionsResult Validate(string? name, CorsSettings options)
    {
        var origins = options.AllowedOrigins ?? [];
        for (var i = 0; i < origins.Length; i++)
        {
            var origin = origins[i];
            if (origin == "*")
            {
                continue;
            }

            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.PathAndQuery != "/" || origin.EndsWith('/'))
            {
                return ValidateOptionsResult.Fail($"{CorsSettings.Section}:AllowedOrigins:{i} must be '*' or an origin such as https://app.example.com (scheme, host and port only; got '{origin}').");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
