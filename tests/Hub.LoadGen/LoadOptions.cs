using System.Globalization;

namespace Hub.LoadGen;

/// <summary>What to run: parsed from the command line (<see cref="Parse"/>), or built directly by tests.</summary>
internal sealed record LoadOptions
{
    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:5080/</c>: the first of <see cref="Nodes"/>.</summary>
    public Uri Url
    {
        get => Nodes[0];
        init => Nodes = [value];
    }

    /// <summary>
    /// The hub nodes, when several share one log (PostgreSQL): <c>--url A,B,C</c>. Publishers go to the nodes
    /// <see cref="PublishOn"/> names and subscribers to those <see cref="SubscribeOn"/> names, in turn.
    /// </summary>
    public IReadOnlyList<Uri> Nodes { get; init; } = [new("http://127.0.0.1:5080/")];

    /// <summary>The indexes into <see cref="Nodes"/> the publishers go to, in turn; null: every node (default: the first).</summary>
    public IReadOnlyList<int>? PublishOn { get; init; } = [0];

    /// <summary>The indexes into <see cref="Nodes"/> the subscribers connect to, in turn; null: every node (the default).</summary>
    public IReadOnlyList<int>? SubscribeOn { get; init; }

    /// <summary>The node subscriber <paramref name="subscriber"/> connects to.</summary>
    public Uri SubscriberNode(int subscriber) => Pick(SubscribeOn, subscriber);

    /// <summary>The node publisher <paramref name="publisher"/> posts to.</summary>
    public Uri PublisherNode(int publisher) => Pick(PublishOn, publisher);

    /// <summary>Where publishers and subscribers go, in words: <c>publishers on A, subscribers on B, C</c>.</summary>
    public string Placement
    {
        get
        {
            static string Names(IEnumerable<int> nodes) => string.Join(", ", nodes.Distinct().Order().Select(n => ((char)('A' + n)).ToString()));
            var publishers = Enumerable.Range(0, Publishers).Select(i => PublishOn is null ? i % Nodes.Count : PublishOn[i % PublishOn.Count]);
            var subscribers = Enumerable.Range(0, Subscribers).Select(i => SubscribeOn is null ? i % Nodes.Count : SubscribeOn[i % SubscribeOn.Count]);
            return $"publishers on {Names(publishers)}, subscribers on {Names(subscribers)}";
        }
    }

    private Uri Pick(IReadOnlyList<int>? on, int i) => on is null ? Nodes[i % Nodes.Count] : Nodes[on[i % on.Count]];

    /// <summary><c>hub</c> (Subscribe + Ask, GenStage's automatic demand) or <c>baseline</c> (the server pushes
    /// <c>events</c> to every connection; nothing to subscribe).</summary>
    public string Target { get; init; } = "hub";

    /// <summary>A free-form name carried into the report.</summary>
    public string Label { get; init; } = "";

    /// <summary>WebSocket subscribers; 0 measures ingest alone (publishers only; not in idle mode).</summary>
    public int Subscribers { get; init; } = 10;

    /// <summary>Of <see cref="Subscribers"/>, how many wait <see cref="SlowDelay"/> after each <c>events</c> message.</summary>
    public int Slow { get; init; }

    public TimeSpan SlowDelay { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Of <see cref="Subscribers"/>, how many stop reading their socket once subscribed (and so never ask).</summary>
    public int Stalled { get; init; }

    public int Publishers { get; init; } = 2;

    /// <summary>Events per <c>POST /api/events</c>.</summary>
    public int Batch { get; init; } = 100;

    /// <summary>Events per second over all publishers (fixed-rate mode); 0 publishes as fast as the server answers.</summary>
    public int Rate { get; init; }

    /// <summary>How long publishers publish.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>At most this many events in all (0: no cap), for short bounded runs.</summary>
    public long MaxEvents { get; init; }

    /// <summary>After publishing, how long to wait for the regular subscribers to receive what was published.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an unanswered publish may run past <see cref="Duration"/> before it is cancelled.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(2);

    public int MaxDemand { get; init; } = 1000;

    public int MinDemand { get; init; } = 500;

    public string Topic { get; init; } = "bench.load";

    /// <summary>Extra bytes of padding in each event's <c>data</c>.</summary>
    public int PayloadBytes { get; init; }

    /// <summary>Idle mode: connect (and subscribe), publish nothing, report the server's memory per connection.</summary>
    public bool Idle { get; init; }

    /// <summary>In idle mode, how long the connections sit before the server's memory is read.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The server's process id, to read its memory from <c>/proc/PID/status</c> (0: not measured).</summary>
    public int ServerPid { get; init; }

    /// <summary>Print only the JSON line.</summary>
    public bool JsonOnly { get; init; }

    public bool IsHub => Target == "hub";

    public int Regular => Subscribers - Slow - Stalled;

    public const string Usage = """
        Hub.LoadGen: end-to-end load against a Hub (or the baseline app) over real WebSockets and HTTP.
          --url URL[,URL…]        server base address (http://127.0.0.1:5080/); several: hub nodes on one log
          --publish-on all|I[,J…] the nodes (0-based indexes into --url) publishers post to, in turn (0)
          --subscribe-on all|I[,J…] the nodes subscribers connect to, in turn (all)
          --target hub|baseline   hub: Subscribe + Ask (automatic demand); baseline: the server pushes to all
          --subscribers K         WebSocket subscribers, each its own connection (10); 0: ingest alone
          --slow N                of them, N wait --slow-delay-ms after each events message (0)
          --slow-delay-ms MS      (10)
          --stalled N             of them, N stop reading their socket once subscribed (0)
          --publishers P          concurrent HTTP publishers (2)
          --batch B               events per POST (100)
          --rate R                fixed rate, events/s over all publishers; 0 = max rate (0)
          --duration S            seconds of publishing (5)
          --events N              stop after N events in all; 0 = no cap (0)
          --drain S               seconds to wait for delivery after publishing (5)
          --grace S               seconds an unanswered POST may run past the duration before it is cancelled (2)
          --topic T               the topic published and subscribed to (bench.load)
          --max-demand N --min-demand N   the hub subscription's demand window (1000, 500)
          --payload BYTES         padding added to each event's data (0)
          --idle                  connect and sit: server memory per connection
          --settle S              idle mode: seconds to sit before reading memory (3)
          --server-pid PID        read the server's VmRSS/VmHWM from /proc/PID/status
          --label TEXT            carried into the report
          --json                  print only the JSON line
        Hub.LoadGen --summarize FOLDER | --summarize-nodes FOLDER: the Markdown tables of bench.sh (or bench.sh --nodes)
        """;

    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var o = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double Seconds() => double.Parse(Next(), CultureInfo.InvariantCulture);
            o = name switch
            {
                "--url" => o with { Nodes = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u.TrimEnd('/') + "/"))] },
                "--publish-on" => o with { PublishOn = Indexes(Next()) },
                "--subscribe-on" => o with { SubscribeOn = Indexes(Next()) },
                "--target" => o with { Target = Next() },
                "--label" => o with { Label = Next() },
                "--subscribers" => o with { Subscribers = Int() },
                "--slow" => o with { Slow = Int() },
                "--slow-delay-ms" => o with { SlowDelay = TimeSpan.FromMilliseconds(Int()) },
                "--stalled" => o with { Stalled = Int() },
                "--publishers" => o with { Publishers = Int() },
                "--batch" => o with { Batch = Int() },
                "--rate" => o with { Rate = Int() },
                "--duration" => o with { Duration = TimeSpan.FromSeconds(Seconds()) },
                "--events" => o with { MaxEvents = long.Parse(Next(), CultureInfo.InvariantCulture) },
                "--drain" => o with { Drain = TimeSpan.FromSeconds(Seconds()) },
                "--grace" => o with { Grace = TimeSpan.FromSeconds(Seconds()) },
                "--max-demand" => o with { MaxDemand = Int() },
                "--min-demand" => o with { MinDemand = Int() },
                "--topic" => o with { Topic = Next() },
                "--payload" => o with { PayloadBytes = Int() },
                "--idle" => o with { Idle = true },
                "--settle" => o with { Settle = TimeSpan.FromSeconds(Seconds()) },
                "--server-pid" => o with { ServerPid = Int() },
                "--json" => o with { JsonOnly = true },
                _ => throw new ArgumentException($"unknown option {name}"),
            };
        }

        o.Validate();
        return o;
    }

    /// <summary>Node indexes: <c>all</c> (null: every node, however many <c>--url</c> names, wherever it stands) or a list.</summary>
    private static int[]? Indexes(string value) => value == "all"
        ? null
        : [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(i => int.Parse(i, CultureInfo.InvariantCulture))];

    public void Validate()
    {
        if (Nodes.Count < 1 || (PublishOn ?? []).Concat(SubscribeOn ?? []).Any(i => i < 0 || i >= Nodes.Count) || PublishOn is { Count: 0 } || SubscribeOn is { Count: 0 })
        {
            throw new ArgumentException($"--publish-on and --subscribe-on must name nodes 0..{Nodes.Count - 1} of --url");
        }

        if (Target is not ("hub" or "baseline"))
        {
            throw new ArgumentException("--target must be hub or baseline");
        }

        if (Subscribers < (Idle ? 1 : 0) || Slow < 0 || Stalled < 0 || Slow + Stalled > Subscribers)
        {
            throw new ArgumentException("--subscribers must hold --slow + --stalled (and be ≥ 1 with --idle)");
        }

        if (Publishers < 1 || Batch < 1 || Rate < 0 || Duration <= TimeSpan.Zero || MaxEvents < 0)
        {
            throw new ArgumentException("--publishers, --batch and --duration must be positive, --rate and --events not negative");
        }

        if (MinDemand < 0 || MaxDemand < 1 || MinDemand >= MaxDemand)
        {
            throw new ArgumentException("--min-demand must be below --max-demand");
        }
    }
}
