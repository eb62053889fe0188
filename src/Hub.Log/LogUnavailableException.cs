namespace Hub.Log;

/// <summary>
/// The log cannot write now: the append was refused, nothing was appended, and the caller may retry later (on this hub
/// once its disk has room again, or after its restart). <see cref="IEventLog.CheckHealthAsync"/> says which.
/// </summary>
public sealed class LogUnavailableException(string message, TimeSpan retryAfter, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>When trying again makes sense.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}
