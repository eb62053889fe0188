namespace Hub.Stages.Tests.Support;

internal static class Seq
{
    /// <summary>The integers from <paramref name="first"/> to <paramref name="last"/>, inclusive.</summary>
    public static int[] Range(int first, int last) => Enumerable.Range(first, last - first + 1).ToArray();
}
