namespace Hub.Server.Handlers;

/// <summary>
/// One in-process handler's settings: set in code by <c>AddHandler(name, o => …)</c>, then overridden by the
/// configuration section <c>"Hub:Handlers:NAME"</c> (same names), and validated at start (a bad value stops the start,
/// naming the key).
/// </summary>
public sealed class HandlerOptions
{
    /// <summary>The configuration section that holds every handler's section, by name.</summary>
    public const string Section = "Hub:Handlers";

    internal const int DefaultMaxDemand = 100;
    internal const int DefaultMaxConcurrency = 1;
    internal const int MaxMaxConcurrency = 1024;
    internal const int DefaultMaxAttempts = 3;
    internal const int MaxMaxAttempts = 100;
    internal const int DefaultRetryDelayMilliseconds = 100;
    internal const int DefaultMaxRetryDelayMilliseconds = 10_000;

    /// <summary>The topic patterns it handles (as in <c>Subscribe</c>: <c>orders.*</c>, <c>orders.&gt;</c>). Required.</summary>
    public IList<string> Topics { get; } = [];

    /// <summary>The event types it handles; empty for all.</summary>
    public IList<string> Types { get; } = [];

    /// <summary>
    /// Its demand window (GenStage's <c>max_demand</c>): the most events handed to it and not yet handled. Default 100.
    /// </summary>
    public int MaxDemand { get; set; } = DefaultMaxDemand;

    /// <summary>
    /// It asks for more once what it holds falls to this (GenStage's <c>min_demand</c>); a batch holds at most
    /// <c>MaxDemand - MinDemand</c> events. Default (null): <c>MaxDemand / 2</c>.
    /// </summary>
    public int? MinDemand { get; set; }

    /// <summary>How many batches may run at once (ConsumerSupervisor's children). Default 1: one batch after another.</summary>
    public int MaxConcurrency { get; set; } = DefaultMaxConcurrency;

    /// <summary>
    /// With <see cref="MaxConcurrency"/> above 1: events of one <c>key</c> are never handled concurrently nor out of order
    /// (events go to <c>MaxConcurrency</c> partitions by <c>KeyHash</c>, as groups' do, each partition one call at a time).
    /// Events without a key go by their sequence, so they may run in any partition. Default false.
    /// </summary>
    public bool OrderByKey { get; set; }

    /// <summary>Where it starts the first time; after that it resumes after its saved position. Default <see cref="HandlerStartFrom.Head"/>.</summary>
    public HandlerStartFrom StartFrom { get; set; } = HandlerStartFrom.Head;

    /// <summary>
    /// How many times a batch is tried before its events are tried one by one, and how many times each of those is tried
    /// before it is dead-lettered. Default 3.
    /// </summary>
    public int MaxAttempts { get; set; } = DefaultMaxAttempts;

    /// <summary>The wait before the first retry; it doubles with each further one, up to <see cref="MaxRetryDelay"/>. Default 100 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(DefaultRetryDelayMilliseconds);

    /// <summary>The longest wait between two attempts. Default 10 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMilliseconds(DefaultMaxRetryDelayMilliseconds);

    /// <summary>
    /// Whether an event that still fails after its attempts is published to <c>hub.deadletter.NAME</c> with the failure
    /// (true, the default) or only logged. Either way the handler goes on with the next events.
    /// </summary>
    public bool DeadLetter { get; set; } = true;

    /// <summary>The topic a handler's dead letters go to.</summary>
    public static string DeadLetterTopic(string name) => "hub.deadletter." + name;
}
