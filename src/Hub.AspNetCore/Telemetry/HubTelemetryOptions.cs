namespace Hub.Server.Telemetry;

/// <summary>
/// Where the hub sends its traces, metrics and logs (OTLP), bound from <c>"Hub:Telemetry"</c>. Each setting falls back
/// to the standard OpenTelemetry variable (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>,
/// <c>OTEL_SERVICE_NAME</c>); with no endpoint either way, nothing is exported and nothing is logged about it.
/// </summary>
public sealed class HubTelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Telemetry";

    internal const string DefaultServiceName = "hub";
    internal const string GrpcProtocol = "grpc";
    internal const string HttpProtobufProtocol = "http/protobuf";

    /// <summary>
    /// The OTLP collector's base address, e.g. <c>http://127.0.0.1:4318</c> (<c>/v1/traces</c>, <c>/v1/metrics</c> and
    /// <c>/v1/logs</c> are added for <c>http/protobuf</c>). Default empty: off, unless <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
    /// </summary>
    public string Endpoint { get; set; } = "";

    /// <summary><c>http/protobuf</c> or <c>grpc</c>. Default empty: <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, else <c>http/protobuf</c>.</summary>
    public string Protocol { get; set; } = "";

    /// <summary>The <c>service.name</c> resource attribute. Default empty: <c>OTEL_SERVICE_NAME</c>, else <c>hub</c>.</summary>
    public string ServiceName { get; set; } = "";
}
