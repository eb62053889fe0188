using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Hub.Server.Telemetry;

/// <summary>
/// The one place the hub's OpenTelemetry is configured: the <c>Hub</c> activity source and meter, ASP.NET Core's own
/// spans and meters, logs with their trace ids, all sent by OTLP to the endpoint that <c>"Hub:Telemetry"</c> or the
/// standard <c>OTEL_*</c> variables name. Without an endpoint the SDK is not added at all: nothing is collected,
/// exported or logged about it, and the hub's instruments cost a branch.
/// </summary>
public static class HubTelemetryServiceCollectionExtensions
{
    /// <summary>The standard variable that names the OTLP endpoint.</summary>
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The standard variable that names the OTLP protocol.</summary>
    public const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>The standard variable that names the service.</summary>
    public const string ServiceNameVariable = "OTEL_SERVICE_NAME";

    /// <summary>
    /// SignalR's activity source: a span per hub method invocation (<c>Subscribe</c>, <c>Ask</c>). Not in the
    /// ASP.NET Core instrumentation package's list.
    /// </summary>
    internal const string SignalRSourceName = "Microsoft.AspNetCore.SignalR.Server";

    /// <summary>Adds the hub's telemetry: options, log correlation and, with an endpoint, OTLP export (the delivery layer
    /// adds its own gauges on the <c>Hub</c> meter).</summary>
    public static IServiceCollection AddHubTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HubTelemetryOptions>()
            .Bind(configuration.GetSection(HubTelemetryOptions.Section))
            .PostConfigure(o => Resolve(o, configuration))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<HubTelemetryOptions>, HubTelemetryOptionsValidator>();

        // Every log written inside a span carries its trace and span ids (as a scope, and on exported log records).
        services.Configure<LoggerFactoryOptions>(o => o.ActivityTrackingOptions |= ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        var options = new HubTelemetryOptions();
        configuration.GetSection(HubTelemetryOptions.Section).Bind(options);
        Resolve(options, configuration);
        if (options.Endpoint is not { Length: > 0 } endpoint || !HubTelemetryOptionsValidator.IsHttpUri(endpoint) || new HubTelemetryOptionsValidator().Validate(null, options).Failed)
        {
            // Off (or about to stop the start, with the key named, when the options are validated).
            return services;
        }

        var protocol = options.Protocol == HubTelemetryOptions.GrpcProtocol ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the SDK's own detector; a name set here wins.
                if (options.ServiceName is { Length: > 0 } name)
                {
                    resource.AddService(name, serviceVersion: typeof(HubTelemetryServiceCollectionExtensions).Assembly.GetName().Version?.ToString());
                }
            })
            .WithTracing(tracing => tracing
                .AddSource(HubTracing.SourceName, SignalRSourceName)
                .AddAspNetCoreInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(HubMetrics.MeterName)
                .AddAspNetCoreInstrumentation())
            .WithLogging()
            .UseOtlpExporter(protocol, new Uri(endpoint));
        return services;
    }

    /// <summary>Fills what <c>"Hub:Telemetry"</c> leaves empty from the standard variables, then the defaults.</summary>
    private static void Resolve(HubTelemetryOptions options, IConfiguration configuration)
    {
        options.Endpoint = NullIfEmpty(options.Endpoint) ?? configuration[EndpointVariable] ?? "";
        options.Protocol = NullIfEmpty(options.Protocol) ?? NullIfEmpty(configuration[ProtocolVariable]) ?? HubTelemetryOptions.HttpProtobufProtocol;
        if (options.ServiceName.Length == 0 && NullIfEmpty(configuration[ServiceNameVariable]) is null)
        {
            options.ServiceName = HubTelemetryOptions.DefaultServiceName;
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
