namespace Hub.Log;

/// <summary>The log's writer is behind: the append was refused, nothing was appended, and the caller may retry later.</summary>
public sealed class LogOverloadedException(string message, TimeSpan retryAfter) : Exception(message)
{
    /// <summary>When trying again makes sense.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}
