using System.ComponentModel.DataAnnotations;

namespace Hub.Server.Subscriptions;

/// <summary>How subscriptions are served, bound from <c>"Hub:Subscriptions"</c>.</summary>
public sealed class DeliveryOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Subscriptions";

    internal const int DefaultMaxBatchBytes = 64 * 1024;
    internal const int DefaultMaxPerConnection = 100;

    /// <summary>
    /// A batch stops growing once its events' JSON reaches this many bytes (it always holds at least one event), so one
    /// message in a stalled connection's buffers is bounded. Default 64 KiB.
    /// </summary>
    [Range(1024, 64 * 1024 * 1024, ErrorMessage = "Hub:Subscriptions:MaxBatchBytes must be between 1024 and 67108864.")]
    public int MaxBatchBytes { get; set; } = DefaultMaxBatchBytes;

    /// <summary>The most subscriptions one connection may hold at once. Default 100.</summary>
    [Range(1, 100_000, ErrorMessage = "Hub:Subscriptions:MaxPerConnection must be between 1 and 100000.")]
    public int MaxPerConnection { get; set; } = DefaultMaxPerConnection;
}
