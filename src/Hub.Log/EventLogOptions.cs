using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Hub.Log;

/// <summary>The log's settings, bound from <c>"Hub:Log"</c>.</summary>
public sealed class EventLogOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Log";

    internal const int DefaultMaxEvents = 1_000_000;
    internal const int DefaultMaxScanEvents = 10_000;
    internal const int DefaultMaxPageBytes = 1024 * 1024;
    internal static readonly TimeSpan DefaultDedupWindow = TimeSpan.FromMinutes(10);
    internal static readonly TimeSpan DefaultMaxAge = TimeSpan.FromDays(7);
    internal const int DefaultMaxDedupEntries = 1_000_000;
    internal const int DefaultMaxTopics = 100_000;
    internal const int DefaultMaxGroupPositions = 10_000;

    /// <summary>
    /// Which engine stores the log: <c>Sqlite</c> (durable, embedded; the default), <c>Memory</c> (one process, nothing
    /// kept), or <c>Postgres</c> (several nodes on one database, <see cref="Postgres"/>).
    /// </summary>
    [RegularExpression("^(?i:sqlite|memory|postgres)$", ErrorMessage = "Hub:Log:Kind must be 'Sqlite', 'Memory' or 'Postgres'.")]
    public string Kind { get; set; } = KindSqlite;

    /// <summary>The configuration key of <see cref="Kind"/>, read when the engine is registered.</summary>
    public const string KindKey = Section + ":Kind";

    /// <summary><see cref="Kind"/>'s values.</summary>
    public const string KindSqlite = "Sqlite", KindMemory = "Memory", KindPostgres = "Postgres";

    /// <summary>Whether <see cref="Kind"/> names the in-memory log.</summary>
    internal bool IsMemory => string.Equals(Kind, KindMemory, StringComparison.OrdinalIgnoreCase);

    /// <summary>The PostgreSQL log's settings, <c>"Hub:Log:Postgres"</c> (used when <see cref="Kind"/> is <c>Postgres</c>).</summary>
    /// <remarks>Its connection string is checked by <see cref="EventLogOptionsValidator"/> (required for that kind only).</remarks>
    [Required]
    [ValidateObjectMembers]
    public PostgresOptions Postgres { get; set; } = new();

    /// <summary>The SQLite log's settings, <c>"Hub:Log:Sqlite"</c>.</summary>
    [Required]
    [ValidateObjectMembers]
    public SqliteOptions Sqlite { get; set; } = new();

    /// <summary>How much of the log is kept.</summary>
    [Required]
    [ValidateObjectMembers]
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>How long a published <c>(topic, id)</c> is remembered for idempotent publish. Default 10 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00", ErrorMessage = "Hub:Log:DedupWindow must be between 00:00:00 and 365.00:00:00.")]
    public TimeSpan DedupWindow { get; set; } = DefaultDedupWindow;

    /// <summary>
    /// The most publish ids <c>(topic, id)</c> and idempotency-answer events remembered within <see cref="DedupWindow"/>;
    /// past it the oldest are forgotten early (logged as a warning). Default 1,000,000.
    /// </summary>
    [Range(1, 100_000_000, ErrorMessage = "Hub:Log:MaxDedupEntries must be between 1 and 100000000.")]
    public int MaxDedupEntries { get; set; } = DefaultMaxDedupEntries;

    /// <summary>
    /// The most topics counted for <c>GET /api/topics</c>; past it, the counters of the topics published to least
    /// recently are dropped (a tenth of them at a time). Default 100,000.
    /// </summary>
    [Range(10, 10_000_000, ErrorMessage = "Hub:Log:MaxTopics must be between 10 and 10000000.")]
    public int MaxTopics { get; set; } = DefaultMaxTopics;

    /// <summary>
    /// The most group positions kept (groups with members, and groups gone for less than <c>Retention:MaxAge</c>, after
    /// which their position is removed); a group that would need one more is refused naming this setting. Default 10,000.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "Hub:Log:MaxGroupPositions must be between 1 and 10000000.")]
    public int MaxGroupPositions { get; set; } = DefaultMaxGroupPositions;

    /// <summary>
    /// The most log entries one read examines, matching or not: a page of <c>GET /api/events</c>, or one step of a
    /// subscriber's or a group's catch-up. A read that reaches it answers what it found (possibly nothing) with the last
    /// sequence it examined, and the reader goes on from there, so a pattern that matches nothing in a long log costs
    /// each call a bounded amount of work. Default 10,000.
    /// </summary>
    [Range(100, 10_000_000, ErrorMessage = "Hub:Log:MaxScanEvents must be between 100 and 10000000.")]
    public int MaxScanEvents { get; set; } = DefaultMaxScanEvents;

    /// <summary>
    /// A page of <c>GET /api/events</c> stops growing once its events' JSON reaches this many bytes (it always holds at
    /// least one event when one matches). Default 1 MiB.
    /// </summary>
    [Range(1024, 64 * 1024 * 1024, ErrorMessage = "Hub:Log:MaxPageBytes must be between 1024 and 67108864.")]
    public int MaxPageBytes { get; set; } = DefaultMaxPageBytes;

    /// <summary>The SQLite log's settings.</summary>
    public sealed class SqliteOptions
    {
        internal const string DefaultPath = "data/hub.db";

        /// <summary>The database file: absolute, or relative to the content root (the binaries' folder). Default <c>data/hub.db</c>.</summary>
        [Required(AllowEmptyStrings = false, ErrorMessage = "Hub:Log:Sqlite:Path must name a file.")]
        public string Path { get; set; } = DefaultPath;

        /// <summary>
        /// What a 202 survives. <c>Flush</c> (default): a power cut too; each group commit waits for its fsync
        /// (<c>PRAGMA synchronous = FULL</c>). <c>Process</c>: a crash or kill of the process, not a power cut or a crash of
        /// the machine; the group commit writes the WAL without waiting for the disk (<c>synchronous = NORMAL</c> in WAL
        /// mode), as NATS JetStream does by default.
        /// </summary>
        [RegularExpression("^(?i:flush|process)$", ErrorMessage = "Hub:Log:Sqlite:Durability must be 'Flush' or 'Process'.")]
        public string Durability { get; set; } = DurabilityFlush;

        /// <summary>The values of <see cref="Durability"/>.</summary>
        public const string DurabilityFlush = "Flush", DurabilityProcess = "Process";

        /// <summary>Whether <see cref="Durability"/> is <c>Process</c> (no fsync per group commit).</summary>
        internal bool SkipsFsync => string.Equals(Durability, DurabilityProcess, StringComparison.OrdinalIgnoreCase);

        /// <summary>The most recent events kept in memory for live subscribers; older ones are read from the file. Default 10,000.</summary>
        [Range(16, 10_000_000, ErrorMessage = "Hub:Log:Sqlite:TailEvents must be between 16 and 10000000.")]
        public int TailEvents { get; set; } = 10_000;

        /// <summary>Events accepted but not yet committed, at most; past this, publishers get 503 with Retry-After. Default 100,000.</summary>
        [Range(1, 100_000_000, ErrorMessage = "Hub:Log:Sqlite:MaxPendingEvents must be between 1 and 100000000.")]
        public int MaxPendingEvents { get; set; } = 100_000;

        /// <summary>
        /// How often a hub looks whether another process committed to the same file (one <c>PRAGMA data_version</c>), so
        /// that its subscribers receive those events too; the longest such an event waits before it is seen. Default 20 ms.
        /// </summary>
        [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00", ErrorMessage = "Hub:Log:Sqlite:PollInterval must be between 00:00:00.001 and 00:01:00.")]
        public TimeSpan PollInterval { get; set; } = DefaultPollInterval;

        internal static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(20);

        /// <summary>The most events one group commit (one transaction) takes. Default 10,000.</summary>
        [Range(1, 1_000_000, ErrorMessage = "Hub:Log:Sqlite:MaxGroupEvents must be between 1 and 1000000.")]
        public int MaxGroupEvents { get; set; } = 10_000;

        internal const int DefaultReserveBytes = 16 * 1024 * 1024;

        /// <summary>
        /// Room kept for a full disk: a file of this many bytes beside the database (its path with <c>-reserve</c>), made
        /// when the disk has twice its size free. When a write fails because the disk is full, the writer deletes it, so that
        /// retention's deletes and a checkpoint of the write-ahead log can be written, and tries the write again; it is made
        /// again once writes succeed and the disk has room. 0 keeps no reserve. Default 16 MiB (16777216): a full group commit
        /// of small events, with retention's pass and the checkpoint's growth of the file.
        /// </summary>
        [Range(0, 1024 * 1024 * 1024, ErrorMessage = "Hub:Log:Sqlite:ReserveBytes must be between 0 and 1073741824.")]
        public int ReserveBytes { get; set; } = DefaultReserveBytes;
    }

    /// <summary>The PostgreSQL log's settings.</summary>
    public sealed class PostgresOptions
    {
        internal const int DefaultTailEvents = 10_000;
        internal const int DefaultMaxPendingEvents = 100_000;
        internal const int DefaultMaxGroupEvents = 10_000;
        internal static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(500);

        /// <summary>
        /// The database, in Npgsql's connection-string syntax (<c>Host=…;Database=…;Username=…;Password=…</c>). Required
        /// when <c>Hub:Log:Kind</c> is <c>Postgres</c>; every node of one hub names the same database.
        /// </summary>
        public string? ConnectionString { get; set; }

        /// <summary>The most recent events each node keeps in memory for live subscribers; older ones are read from the database. Default 10,000.</summary>
        [Range(16, 10_000_000, ErrorMessage = "Hub:Log:Postgres:TailEvents must be between 16 and 10000000.")]
        public int TailEvents { get; set; } = DefaultTailEvents;

        /// <summary>Events a node accepted but not yet committed, at most; past this, publishers get 503 with Retry-After. Default 100,000.</summary>
        [Range(1, 100_000_000, ErrorMessage = "Hub:Log:Postgres:MaxPendingEvents must be between 1 and 100000000.")]
        public int MaxPendingEvents { get; set; } = DefaultMaxPendingEvents;

        /// <summary>The most events one group commit (one transaction, one round trip) takes. Default 10,000.</summary>
        [Range(1, 1_000_000, ErrorMessage = "Hub:Log:Postgres:MaxGroupEvents must be between 1 and 1000000.")]
        public int MaxGroupEvents { get; set; } = DefaultMaxGroupEvents;

        /// <summary>
        /// How often a node reads the head even when no notification came (LISTEN/NOTIFY is a hint; this bounds how late a
        /// lost one makes a delivery). Default 500 ms.
        /// </summary>
        [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00", ErrorMessage = "Hub:Log:Postgres:PollInterval must be between 00:00:00.010 and 00:01:00.")]
        public TimeSpan PollInterval { get; set; } = DefaultPollInterval;

        internal static readonly TimeSpan DefaultGroupLeaseTime = TimeSpan.FromSeconds(5);
        internal static readonly TimeSpan DefaultGroupRenewInterval = TimeSpan.FromSeconds(1);

        /// <summary>
        /// How long a node holds a group's partitions without renewing them (see <see cref="IGroupLeases"/>): when a node
        /// dies, its members' share of a group goes to members on other nodes this long after its last renewal, and what
        /// they held unacknowledged is redelivered. Default 5 s. At least twice <see cref="GroupRenewInterval"/>.
        /// </summary>
        [Range(typeof(TimeSpan), "00:00:00.200", "01:00:00", ErrorMessage = "Hub:Log:Postgres:GroupLeaseTime must be between 00:00:00.200 and 01:00:00.")]
        public TimeSpan GroupLeaseTime { get; set; } = DefaultGroupLeaseTime;

        /// <summary>
        /// How often a node with members of a group renews its leases, takes its fair share of the group's partitions (a
        /// node that joins gets its share within about this long) and stores their acknowledged positions. Default 1 s.
        /// </summary>
        [Range(typeof(TimeSpan), "00:00:00.050", "00:30:00", ErrorMessage = "Hub:Log:Postgres:GroupRenewInterval must be between 00:00:00.050 and 00:30:00.")]
        public TimeSpan GroupRenewInterval { get; set; } = DefaultGroupRenewInterval;
    }

    /// <summary>Retention bounds, <c>"Hub:Log:Retention"</c>.</summary>
    public sealed class RetentionOptions
    {
        /// <summary>The most events kept; older ones are dropped as new ones arrive. Default 1,000,000.</summary>
        [Range(1, 100_000_000, ErrorMessage = "Hub:Log:Retention:MaxEvents must be between 1 and 100000000.")]
        public int MaxEvents { get; set; } = DefaultMaxEvents;

        /// <summary>Events older than this are dropped. Default 7 days.</summary>
        [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00", ErrorMessage = "Hub:Log:Retention:MaxAge must be between 00:00:01 and 3650.00:00:00.")]
        public TimeSpan MaxAge { get; set; } = DefaultMaxAge;
    }
}
