using System.Security.Cryptography;

namespace Hub.Log;

/// <summary>
/// A log's epoch (CONTRACT.md): an opaque string fixed when the log is created, so that a client holding a sequence of
/// one log is never taken for a reader of another. A log replaced by a new or empty one (a fresh SQLite file, a restart of
/// the memory log) has a new epoch; the same file opened again keeps its own. Subscribe and <c>GET /api/events</c>
/// answer it; a <c>Subscribe</c> that names another one fails instead of starting somewhere else.
/// </summary>
public static class LogEpoch
{
    /// <summary>The longest epoch a client may send back (ours are 32 characters; the rest is room, not meaning).</summary>
    public const int MaxLength = 128;

    /// <summary>A new epoch: 128 random bits as lower-case hex.</summary>
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
