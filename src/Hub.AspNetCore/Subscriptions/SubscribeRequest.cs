using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Publishing;
using Hub.Server.Topics;
using Hub.Stages.Dispatchers;
using Hub.Stages;

namespace Hub.Server.Subscriptions;

/// <summary>
/// A validated <c>Subscribe(request)</c>. Parsed from the raw JSON argument, so that a wrong type names its field
/// instead of failing in the protocol's binder.
/// </summary>
public sealed class SubscribeRequest
{
    private SubscribeRequest()
    {
    }

    /// <summary>The longest subscription id a client may choose.</summary>
    public const int MaxIdLength = 64;

    /// <summary>The subscription id the client chose (unique among its connection's live subscriptions), or
    /// <see langword="null"/> for one chosen by the hub.</summary>
    public string? Id { get; private init; }

    /// <summary>The topic patterns as written.</summary>
    public IReadOnlyList<string> Topics { get; private init; } = [];

    /// <summary>The compiled patterns.</summary>
    public IReadOnlyList<TopicPattern> Patterns { get; private init; } = [];

    /// <summary>The types to keep, or <see langword="null"/> for all.</summary>
    public IReadOnlyList<string>? Types { get; private init; }

    /// <summary>Replay from after this sequence; <see langword="null"/> for new events only.</summary>
    public long? After { get; private init; }

    /// <summary>The epoch <see cref="After"/> belongs to, when the client sent one: a Subscribe into another epoch fails.</summary>
    public string? Epoch { get; private init; }

    /// <summary>The demand window's size.</summary>
    public int MaxDemand { get; private init; }

    /// <summary>The client re-asks when its outstanding credits fall to this.</summary>
    public int MinDemand { get; private init; }

    /// <summary>Who keeps the demand window full: the client's library (<c>auto</c>) or the client's code (<c>manual</c>).</summary>
    public SubscriberDemand Demand { get; private init; }

    /// <summary>The credits its stage starts with: <see cref="MaxDemand"/> for <see cref="SubscriberDemand.Auto"/> (the
    /// client's first ask, implied by the subscribe), none for <see cref="SubscriberDemand.Manual"/>.</summary>
    public long InitialCredits => Demand == SubscriberDemand.Auto ? MaxDemand : 0;

    /// <summary>What happens when the subscriber falls behind the retention.</summary>
    public OverflowPolicy Overflow { get; private init; }

    /// <summary>The group it joins, or <see langword="null"/> for a broadcast subscription.</summary>
    public string? Group { get; private init; }

    /// <summary>How the group shares events (set exactly when <see cref="Group"/> is).</summary>
    public Groups.GroupDispatchMode? Dispatch { get; private init; }

    /// <summary>The longest group name.</summary>
    public const int MaxGroupLength = 128;

    /// <summary>
    /// The group's identity (set exactly when <see cref="Group"/> is): its name and a fingerprint of its topic set, type
    /// set and dispatch, so that members asking for the same name and the same events share one group and one stored
    /// position, and another tenant's group of the same name is another group.
    /// </summary>
    public GroupKey? GroupKey { get; private init; }

    /// <summary>Validates <paramref name="request"/>; throws <see cref="SubscribeRequestException"/> naming the field.</summary>
    /// <param name="request">The request as the client sent it.</param>
    /// <param name="maxAsk">The most credits one grant may give (<c>Hub:Limits:MaxAsk</c>): <c>maxDemand</c> is the first
    /// grant of an automatic subscription, so it is bounded like <c>Ask</c>'s <c>n</c>, and <c>minDemand</c> below it.</param>
    /// <param name="maxTopics">The most patterns in <c>topics</c> (<c>Hub:Limits:MaxSubscribeTopics</c>).</param>
    /// <param name="maxTypes">The most types in <c>types</c> (<c>Hub:Limits:MaxSubscribeTypes</c>).</param>
    public static SubscribeRequest Parse(
        JsonElement request,
        int maxAsk = Limits.LimitsOptions.DefaultMaxAsk,
        int maxTopics = Limits.LimitsOptions.DefaultMaxSubscribeTopics,
        int maxTypes = Limits.LimitsOptions.DefaultMaxSubscribeTypes)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw new SubscribeRequestException("request", $"must be an object (got {PublishRequestParser.Describe(request.ValueKind)})");
        }

        var id = ParseId(request);
        var (topics, patterns) = ParseTopics(request, maxTopics);
        var types = ParseTypes(request, maxTypes);

        long? after = null;
        if (request.TryGetProperty("after", out var afterElement) && afterElement.ValueKind != JsonValueKind.Null)
        {
            if (afterElement.ValueKind != JsonValueKind.Number || !afterElement.TryGetInt64(out var afterValue) || afterValue < 0)
            {
                throw new SubscribeRequestException("after", $"must be null or a sequence ≥ 0 (got {afterElement.GetRawText()})");
            }

            after = afterValue;
        }

        var epoch = ParseEpoch(request);

        // Not given: GenStage's default, within the bound (a hub configured with a smaller MaxAsk still takes defaults).
        var maxDemand = OptionalInteger(request, "maxDemand") ?? Math.Min(DemandLimits.DefaultMaxDemand, maxAsk);
        var minDemand = OptionalInteger(request, "minDemand") ?? DemandLimits.DefaultMinDemand((int)Math.Clamp(maxDemand, 0, int.MaxValue));
        if (maxDemand > maxAsk)
        {
            throw new SubscribeRequestException("maxDemand", $"may be at most {maxAsk} (Hub:Limits:MaxAsk, the bound of Ask's n; got {maxDemand})");
        }

        if (DemandLimits.Validate(maxDemand, minDemand) is { } demandError)
        {
            throw new SubscribeRequestException(demandError.StartsWith("maxDemand", StringComparison.Ordinal) ? "maxDemand" : "minDemand", demandError);
        }

        var demand = OptionalEnum(request, "demand", ["auto", "manual"]) switch
        {
            "manual" => SubscriberDemand.Manual,
            _ => SubscriberDemand.Auto,
        };
        var overflow = OptionalEnum(request, "overflow", ["dropOldest", "disconnect"]) switch
        {
            "disconnect" => OverflowPolicy.Disconnect,
            _ => OverflowPolicy.DropOldest,
        };

        var dispatch = OptionalEnum(request, "dispatch", ["broadcast", "demand", "partition"]);
        var group = ParseGroup(request);
        if (group is null && dispatch is "demand" or "partition")
        {
            throw new SubscribeRequestException("dispatch", $"'{dispatch}' shares events among the members of a group and needs 'group'; without a group only 'broadcast' applies");
        }

        if (group is not null && dispatch is "broadcast")
        {
            throw new SubscribeRequestException("dispatch", "a group shares its events among its members: use 'demand' (the default with a group) or 'partition'");
        }

        var mode = group is null ? (Groups.GroupDispatchMode?)null : dispatch == "partition" ? Groups.GroupDispatchMode.Partition : Groups.GroupDispatchMode.Demand;
        return new SubscribeRequest
        {
            Id = id,
            Topics = topics,
            Patterns = patterns,
            Types = types,
            After = after,
            Epoch = epoch,
            MaxDemand = (int)maxDemand,
            MinDemand = (int)minDemand,
            Demand = demand,
            Overflow = overflow,
            Group = group,
            Dispatch = mode,
            GroupKey = group is null ? null : new GroupKey(group, Fingerprint(topics, types, mode!.Value)),
        };
    }

    private static string? ParseId(JsonElement request)
    {
        if (!request.TryGetProperty("id", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String || element.GetString() is not { } id || !IsValidId(id))
        {
            throw new SubscribeRequestException("id", $"must be null or 1 to {MaxIdLength} characters of [A-Za-z0-9_.:-] (got {TopicName.Shorten(element.GetRawText())})");
        }

        return id;
    }

    private static readonly SearchValues<char> IdCharacters = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-");

    /// <summary>Whether <paramref name="id"/> may be a subscription id: 1 to 64 characters of <c>[A-Za-z0-9_.:-]</c>
    /// (checked for every <c>events</c> message too, so it allocates nothing).</summary>
    internal static bool IsValidId(string id) =>
        id.Length is > 0 and <= MaxIdLength && !id.AsSpan().ContainsAnyExcept(IdCharacters);

    /// <summary>
    /// 32 hex digits of a SHA-256 over the distinct topics and types, each sorted and length-prefixed (so no two sets
    /// write the same bytes), and the dispatch: the same for any order or repetition, different for any other set.
    /// </summary>
    private static string Fingerprint(IReadOnlyList<string> topics, IReadOnlyList<string>? types, Groups.GroupDispatchMode mode)
    {
        var text = new StringBuilder();
        void Write(IEnumerable<string> items)
        {
            var sorted = items.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            text.Append(sorted.Length).Append(':');
            foreach (var item in sorted)
            {
                text.Append(item.Length).Append(':').Append(item);
            }
        }

        Write(topics);
        Write(types ?? []);
        text.Append(mode == Groups.GroupDispatchMode.Partition ? "partition" : "demand");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 16));
    }

    private static string? ParseEpoch(JsonElement request)
    {
        if (!request.TryGetProperty("epoch", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String || element.GetString() is not { Length: > 0 and <= Log.LogEpoch.MaxLength } epoch)
        {
            throw new SubscribeRequestException("epoch", $"must be null or the epoch string a Subscribe answer or GET /api/events gave, 1 to {Log.LogEpoch.MaxLength} characters (got {TopicName.Shorten(element.GetRawText())})");
        }

        return epoch;
    }

    private static string? ParseGroup(JsonElement request)
    {
        if (!request.TryGetProperty("group", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String || element.GetString() is not { Length: > 0 and <= MaxGroupLength } name ||
            !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            throw new SubscribeRequestException("group", $"must be null or a name of 1 to {MaxGroupLength} characters of [A-Za-z0-9_.-] (got {TopicName.Shorten(element.GetRawText())})");
        }

        return name;
    }

    /// <summary>Whether a member with this request may join a group made with <paramref name="other"/>: the same topics
    /// and types (as sets) and the same dispatch. Returns the field that differs, or <see langword="null"/>.</summary>
    internal string? DiffersFrom(SubscribeRequest other)
    {
        static bool SameSet(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
            (a ?? []).ToHashSet(StringComparer.Ordinal).SetEquals(b ?? []);

        return !SameSet(Topics, other.Topics) ? "topics"
            : !SameSet(Types, other.Types) ? "types"
            : Dispatch != other.Dispatch ? "dispatch"
            : null;
    }

    private static (string[] Topics, TopicPattern[] Patterns) ParseTopics(JsonElement request, int maxTopics)
    {
        if (!request.TryGetProperty("topics", out var topicsElement) || topicsElement.ValueKind == JsonValueKind.Null)
        {
            throw new SubscribeRequestException("topics", "is required: an array of topic patterns such as [\"orders.*\"]");
        }

        if (topicsElement.ValueKind != JsonValueKind.Array)
        {
            throw new SubscribeRequestException("topics", $"must be an array of topic patterns (got {PublishRequestParser.Describe(topicsElement.ValueKind)})");
        }

        var count = topicsElement.GetArrayLength();
        if (count == 0 || count > maxTopics)
        {
            throw new SubscribeRequestException("topics", $"must hold 1 to {maxTopics} patterns (Hub:Limits:MaxSubscribeTopics; got {count})");
        }

        var topics = new string[count];
        var patterns = new TopicPattern[count];
        var i = 0;
        foreach (var item in topicsElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new SubscribeRequestException($"topics[{i}]", $"must be a string (got {PublishRequestParser.Describe(item.ValueKind)})");
            }

            topics[i] = item.GetString()!;
            patterns[i] = TopicPattern.TryParse(topics[i], out var error)
                ?? throw new SubscribeRequestException($"topics[{i}]", $"is not a valid topic pattern: {error}");
            i++;
        }

        return (topics, patterns);
    }

    private static string[]? ParseTypes(JsonElement request, int maxTypes)
    {
        if (!request.TryGetProperty("types", out var typesElement) || typesElement.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (typesElement.ValueKind != JsonValueKind.Array)
        {
            throw new SubscribeRequestException("types", $"must be null or an array of event types (got {PublishRequestParser.Describe(typesElement.ValueKind)})");
        }

        var count = typesElement.GetArrayLength();
        if (count > maxTypes)
        {
            throw new SubscribeRequestException("types", $"may hold at most {maxTypes} types (Hub:Limits:MaxSubscribeTypes; got {count})");
        }

        var types = new string[count];
        var i = 0;
        foreach (var item in typesElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 and <= PublishRequestParser.MaxNameLength } type)
            {
                throw new SubscribeRequestException($"types[{i}]", $"must be a string of 1 to {PublishRequestParser.MaxNameLength} characters");
            }

            types[i++] = type;
        }

        return count == 0 ? null : types;
    }

    private static long? OptionalInteger(JsonElement request, string name)
    {
        if (!request.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var value))
        {
            throw new SubscribeRequestException(name, $"must be an integer (got {TopicName.Shorten(element.GetRawText())})");
        }

        return value;
    }

    private static string? OptionalEnum(JsonElement request, string name, string[] allowed)
    {
        if (!request.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var value = element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        if (value is null || Array.IndexOf(allowed, value) < 0)
        {
            throw new SubscribeRequestException(name, $"must be one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))} (got {TopicName.Shorten(element.GetRawText())})");
        }

        return value;
    }
}
