namespace Hub.Log;

/// <summary>
/// The outcome of one read from the log.
/// </summary>
/// <param name="ScannedTo">The last sequence the read examined (matching or not): the next read starts after it.</param>
/// <param name="Truncated">The read started before the oldest retained event: nothing was read, and the reader must
/// decide what to do about the events it missed (<c>FirstRetained</c> tells where the log starts now).</param>
/// <param name="FirstRetained">The oldest sequence the log still holds (head + 1 when it is empty).</param>
public readonly record struct LogRead(long ScannedTo, bool Truncated, long FirstRetained);
