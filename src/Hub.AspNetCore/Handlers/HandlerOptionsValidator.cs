using System.Text.Json;
using Hub.Server.Limits;
using Hub.Server.Subscriptions;
using Microsoft.Extensions.Options;

namespace Hub.Server.Handlers;

/// <summary>
/// Checks a handler's settings at start and makes its stage's request from them. Topics, types and demand go through
/// <see cref="SubscribeRequest.Parse"/>, the one validation a <c>Subscribe</c> gets, so a handler accepts exactly what a
/// subscriber may ask for; each message names the key (<c>Hub:Handlers:NAME:MaxDemand</c>).
/// </summary>
internal sealed class HandlerOptionsValidator(IOptions<LimitsOptions> limits) : IValidateOptions<HandlerOptions>
{
    public ValidateOptionsResult Validate(string? name, HandlerOptions options)
    {
        if (name is null || !HandlerName.IsValid(name))
        {
            // Only named options are handlers' (AddHandler validates the name before it names the options).
            return ValidateOptionsResult.Skip;
        }

        try
        {
            _ = CreateRequest(name, options, limits.Value.MaxAsk);
            return ValidateOptionsResult.Success;
        }
        catch (HubStartupException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }

    /// <summary>The request of <paramref name="name"/>'s stage: its selector and its automatic demand window.</summary>
    /// <exception cref="HubStartupException">A setting is out of range; the message names its key.</exception>
    public static SubscribeRequest CreateRequest(string name, HandlerOptions options, int maxAsk)
    {
        string Key(string setting) => $"{HandlerOptions.Section}:{name}:{setting}";

        if (options.MaxConcurrency is < 1 or > HandlerOptions.MaxMaxConcurrency)
        {
            throw new HubStartupException($"{Key("MaxConcurrency")} must be between 1 and {HandlerOptions.MaxMaxConcurrency} (got {options.MaxConcurrency}).");
        }

        if (options.MaxAttempts is < 1 or > HandlerOptions.MaxMaxAttempts)
        {
            throw new HubStartupException($"{Key("MaxAttempts")} must be between 1 and {HandlerOptions.MaxMaxAttempts} (got {options.MaxAttempts}).");
        }

        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromHours(1))
        {
            throw new HubStartupException($"{Key("RetryDelay")} must be between 00:00:00 and 01:00:00 (got {options.RetryDelay}).");
        }

        if (options.MaxRetryDelay < options.RetryDelay || options.MaxRetryDelay > TimeSpan.FromHours(1))
        {
            throw new HubStartupException($"{Key("MaxRetryDelay")} must be between {Key("RetryDelay")} ({options.RetryDelay}) and 01:00:00 (got {options.MaxRetryDelay}).");
        }

        if (!Enum.IsDefined(options.StartFrom))
        {
            throw new HubStartupException($"{Key("StartFrom")} must be Head or Oldest (got {options.StartFrom}).");
        }

        var request = new Dictionary<string, object?>
        {
            ["topics"] = options.Topics,
            ["types"] = options.Types.Count == 0 ? null : options.Types,
            ["maxDemand"] = options.MaxDemand,
            ["minDemand"] = options.MinDemand,
            ["demand"] = "auto",
            ["overflow"] = "dropOldest",
        };
        try
        {
            return SubscribeRequest.Parse(JsonSerializer.SerializeToElement(request), maxAsk);
        }
        catch (SubscribeRequestException ex)
        {
            // The wire's field (topics[0], maxDemand) becomes the setting's key (Topics:0, MaxDemand).
            var field = char.ToUpperInvariant(ex.Field[0]) + ex.Field[1..].Replace("[", ":", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal);
            throw new HubStartupException($"{Key(field)}: {ex.Message[(ex.Field.Length + 2)..]}", ex);
        }
    }
}
