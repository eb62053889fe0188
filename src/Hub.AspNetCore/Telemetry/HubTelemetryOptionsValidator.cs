using Microsoft.Extensions.Options;

namespace Hub.Server.Telemetry;

/// <summary>Stops the start on a telemetry setting the exporter could not use, naming the key.</summary>
internal sealed class HubTelemetryOptionsValidator : IValidateOptions<HubTelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, HubTelemetryOptions options)
    {
        var failures = new List<string>();
        if (options.Endpoint is { Length: > 0 } endpoint && !IsHttpUri(endpoint))
        {
            failures.Add($"{HubTelemetryOptions.Section}:Endpoint (or {HubTelemetryServiceCollectionExtensions.EndpointVariable}) must be an absolute http:// or https:// address (got '{endpoint}').");
        }

        if (options.Protocol is { Length: > 0 } protocol && protocol is not (HubTelemetryOptions.GrpcProtocol or HubTelemetryOptions.HttpProtobufProtocol))
        {
            failures.Add($"{HubTelemetryOptions.Section}:Protocol (or {HubTelemetryServiceCollectionExtensions.ProtocolVariable}) must be '{HubTelemetryOptions.HttpProtobufProtocol}' or '{HubTelemetryOptions.GrpcProtocol}' (got '{protocol}').");
        }

        if (options.ServiceName is { Length: > 0 } service && string.IsNullOrWhiteSpace(service))
        {
            failures.Add($"{HubTelemetryOptions.Section}:ServiceName must not be blank.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsHttpUri(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
