namespace Hub.LoadGen;

/// <summary>Min, median and max of a set of rates.</summary>
internal sealed record Spread(double Min, double Median, double Max)
{
    public static Spread Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return new Spread(0, 0, 0);
        }

        var sorted = values.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new Spread(sorted[0], median, sorted[^1]);
    }
}
