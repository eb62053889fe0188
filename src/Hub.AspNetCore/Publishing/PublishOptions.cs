using System.ComponentModel.DataAnnotations;

namespace Hub.Server.Publishing;

/// <summary>Limits on what a publisher may send, bound from <c>"Hub:Publish"</c>.</summary>
public sealed class PublishOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Publish";

    internal const int DefaultMaxBodyBytes = 1024 * 1024;
    internal const int DefaultMaxBatchEvents = 1000;
    internal const int DefaultMaxEventBytes = 256 * 1024;

    /// <summary>The largest request body accepted, in bytes; larger answers 413. Default 1 MiB.</summary>
    [Range(1024, 256 * 1024 * 1024, ErrorMessage = "Hub:Publish:MaxBodyBytes must be between 1024 and 268435456.")]
    public int MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;

    /// <summary>The most events in one batch; more answers 400. Default 1000.</summary>
    [Range(1, 100_000, ErrorMessage = "Hub:Publish:MaxBatchEvents must be between 1 and 100000.")]
    public int MaxBatchEvents { get; set; } = DefaultMaxBatchEvents;

    /// <summary>The largest event accepted, in bytes of its stored JSON (topic, type, id, key, time, data, headers);
    /// a larger one answers 400 naming it. Default 256 KiB.</summary>
    [Range(256, 256 * 1024 * 1024, ErrorMessage = "Hub:Publish:MaxEventBytes must be between 256 and 268435456.")]
    public int MaxEventBytes { get; set; } = DefaultMaxEventBytes;
}
