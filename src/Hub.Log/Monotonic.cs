namespace Hub.Log;

/// <summary>A counter shared by threads that only ever moves forward (a head, where the log starts).</summary>
internal static class Monotonic
{
    /// <summary>Raises <paramref name="field"/> to <paramref name="value"/>, atomically, unless it is already as high.</summary>
    public static void Raise(ref long field, long value)
    {
        var known = Volatile.Read(ref field);
        while (value > known)
        {
            var seen = Interlocked.CompareExchange(ref field, value, known);
            if (seen == known)
            {
                return;
            }

            known = seen;
        }
    }
}
