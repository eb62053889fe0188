using System.ComponentModel.DataAnnotations;

namespace Hub.Server.Log;

/// <summary>The log's settings, bound from <c>"Hub:Log"</c>.</summary>
public sealed class EventLogOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Log";

    internal const int DefaultMaxEvents = 100_000;
    internal static readonly TimeSpan DefaultDedupWindow = TimeSpan.FromMinutes(10);
    internal static readonly TimeSpan DefaultMaxAge = TimeSpan.FromDays(7);

    /// <summary>Which implementation: <c>Memory</c> (the only one so far). Default <c>Memory</c>.</summary>
    [RegularExpression("^(?i:memory)$", ErrorMessage = "Hub:Log:Kind must be 'Memory'.")]
    public string Kind { get; set; } = "Memory";

    /// <summary>How much of the log is kept.</summary>
    [Required]
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>How long a published <c>(topic, id)</c> is remembered for idempotent publish. Default 10 minutes.</summary>
    public TimeSpan DedupWindow { get; set; } = DefaultDedupWindow;

    /// <summary>Retention bounds, <c>"Hub:Log:Retention"</c>.</summary>
    public sealed class RetentionOptions
    {
        /// <summary>The most events kept; older ones are dropped as new ones arrive. Default 100,000.</summary>
        [Range(1, 100_000_000, ErrorMessage = "Hub:Log:Retention:MaxEvents must be between 1 and 100000000.")]
        public int MaxEvents { get; set; } = DefaultMaxEvents;

        /// <summary>Events older than this are dropped. Default 7 days.</summary>
        [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00", ErrorMessage = "Hub:Log:Retention:MaxAge must be between 00:00:01 and 3650.00:00:00.")]
        public TimeSpan MaxAge { get; set; } = DefaultMaxAge;
    }
}
