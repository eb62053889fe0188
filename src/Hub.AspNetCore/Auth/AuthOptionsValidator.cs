using System.Globalization;
using System.Text;
using Hub.Server.Topics;
using Microsoft.Extensions.Options;

namespace Hub.Server.Auth;

/// <summary>
/// Checks <c>"Hub:Auth"</c> at start: a hub that asks for credentials must have a way to accept some, keys must be
/// SHA-256 hashes and grants valid topic patterns. Each failure names its key.
/// </summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        if (options.EffectiveMode == AuthMode.Required && string.IsNullOrEmpty(options.SigningKey) && options.ApiKeys.Length == 0)
        {
            failures.Add("Hub:Auth: Mode is Required (the default outside the Development environment) but neither Hub:Auth:SigningKey nor Hub:Auth:ApiKeys is set, so no one could publish or subscribe. Configure a signing key or API keys, or set Hub:Auth:Mode to None (development only: anyone may then do anything).");
        }

        if (!string.IsNullOrEmpty(options.SigningKey) && Encoding.UTF8.GetByteCount(options.SigningKey) < AuthOptions.MinSigningKeyBytes)
        {
            failures.Add($"Hub:Auth:SigningKey: must be at least {AuthOptions.MinSigningKeyBytes} bytes for HMAC-SHA256 (e.g. the output of `openssl rand -base64 48`).");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
        {
            failures.Add("Hub:Auth:ClockSkew: must be between 00:00:00 and 00:05:00.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.ApiKeys.Length; i++)
        {
            var key = options.ApiKeys[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"Hub:Auth:ApiKeys:{i}");
            if (string.IsNullOrWhiteSpace(key.Name) || !names.Add(key.Name))
            {
                failures.Add($"{at}:Name: must be set, and unique among the keys.");
            }

            if (key.Sha256 is not { Length: 64 } || !key.Sha256.All(char.IsAsciiHexDigit))
            {
                failures.Add($"{at}:Sha256: must be the key's SHA-256, 64 hexadecimal digits (printf %s \"$KEY\" | sha256sum); the key itself is never configured.");
            }
            else if (!hashes.Add(key.Sha256))
            {
                failures.Add($"{at}:Sha256: the same hash is configured twice.");
            }

            CheckPatterns(key.Publish, $"{at}:Publish", failures);
            CheckPatterns(key.Subscribe, $"{at}:Subscribe", failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckPatterns(string[]? patterns, string at, List<string> failures)
    {
        for (var j = 0; j < (patterns?.Length ?? 0); j++)
        {
            if (TopicPattern.TryParse(patterns![j], out var error) is null)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{at}:{j}: is not a valid topic pattern: {error}"));
            }
        }
    }
}
