namespace Hub.Stages;

/// <summary>
/// GenStage's demand options and their rules, shared by every consumer subscription in <c>Hub.Stages</c>
/// and by the hub's wire subscriptions, so both accept and reject exactly the same values.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>maxDemand</c> defaults to <see cref="DefaultMaxDemand"/> (1000) and must be at least 1.</item>
/// <item><c>minDemand</c> defaults to <c>maxDemand / 2</c> (integer division) and must satisfy
/// <c>0 ≤ minDemand &lt; maxDemand</c>.</item>
/// </list>
/// </remarks>
public static class DemandLimits
{
    /// <summary>GenStage's default <c>max_demand</c>.</summary>
    public const int DefaultMaxDemand = 1000;

    /// <summary>The default <c>minDemand</c> for a given <paramref name="maxDemand"/>: half of it, rounded down.</summary>
    public static int DefaultMinDemand(int maxDemand) => maxDemand / 2;

    /// <summary>
    /// Checks a pair of demand options. Returns <see langword="null"/> when they are valid, otherwise a message that
    /// names the option and the allowed range, e.g. <c>"maxDemand must be at least 1 (got 0)"</c>.
    /// </summary>
    /// <param name="maxDemand">The most events a subscriber may have outstanding.</param>
    /// <param name="minDemand">The outstanding demand at or below which an automatic subscriber asks again.</param>
    /// <param name="maxDemandName">The name to use for the max option in the message (the wire uses camelCase).</param>
    /// <param name="minDemandName">The name to use for the min option in the message.</param>
    public static string? Validate(long maxDemand, long minDemand, string maxDemandName = "maxDemand", string minDemandName = "minDemand")
    {
        if (maxDemand < 1 || maxDemand > int.MaxValue)
        {
            return $"{maxDemandName} must be between 1 and {int.MaxValue} (got {maxDemand})";
        }

        if (minDemand < 0 || minDemand >= maxDemand)
        {
            return $"{minDemandName} must be between 0 and {maxDemandName} - 1 = {maxDemand - 1} (got {minDemand})";
        }

        return null;
    }
}
