using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>A logger that keeps every entry, so a test can assert that a failure was said (id, level, message).</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    /// <summary>Every entry logged, in order.</summary>
    public ConcurrentQueue<(EventId Id, LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((eventId, logLevel, formatter(state, exception), exception));

    /// <summary>The entries with event id <paramref name="id"/>.</summary>
    public (EventId Id, LogLevel Level, string Message, Exception? Exception)[] WithId(int id) => Entries.Where(e => e.Id.Id == id).ToArray();
}
