using Microsoft.Extensions.Logging;

namespace Hub.Server.Handlers;

internal sealed partial class HandlerStage
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Handler {Handler} failed on {Count} events ({First}..{Last}), attempt {Attempt} of {MaxAttempts}")]
        public static partial void AttemptFailed(ILogger logger, Exception exception, string handler, int count, long first, long last, int attempt, int maxAttempts);

        [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Handler {Handler} failed on the batch {First}..{Last} ({Count} events) after its attempts; trying its events one by one")]
        public static partial void Isolating(ILogger logger, string handler, int count, long first, long last);

        [LoggerMessage(EventId = 7003, Level = LogLevel.Error, Message = "Handler {Handler} gave up on event {Sequence} ({Topic}) after {Attempts} attempts; its failure is dead-lettered to {DeadLetterTopic} as event {DeadLetterSequence}")]
        public static partial void DeadLettered(ILogger logger, Exception exception, string handler, long sequence, string topic, int attempts, string deadLetterTopic, long deadLetterSequence);

        [LoggerMessage(EventId = 7004, Level = LogLevel.Error, Message = "Handler {Handler} gave up on event {Sequence} ({Topic}) after {Attempts} attempts; it is not dead-lettered (DeadLetter is off, or it is a dead letter of this handler)")]
        public static partial void GaveUp(ILogger logger, Exception exception, string handler, long sequence, string topic, int attempts);

        [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "Handler {Handler} cannot dead-letter event {Sequence} now (attempt {Attempt}); it retries, and does not pass the event until it has")]
        public static partial void DeadLetterWaits(ILogger logger, Exception exception, string handler, long sequence, int attempt);

        [LoggerMessage(EventId = 7006, Level = LogLevel.Error, Message = "Handler {Handler} fell behind the log's retention: events {From}..{To} are gone and were not handled ({Reason})")]
        public static partial void Gap(ILogger logger, string handler, long from, long to, string reason);

        [LoggerMessage(EventId = 7007, Level = LogLevel.Warning, Message = "Handler {Handler} has stopped ({Reason}); it starts again with the application, after its saved position")]
        public static partial void Ended(ILogger logger, string handler, string reason);

        [LoggerMessage(EventId = 7008, Level = LogLevel.Error, Message = "Handler {Handler}'s position {Position} was not saved: the log keeps the most positions it may (Hub:Log:MaxGroupPositions)")]
        public static partial void PositionNotSaved(ILogger logger, string handler, long position);

        [LoggerMessage(EventId = 7009, Level = LogLevel.Error, Message = "Handler {Handler} stopped on a fault of its stage; it starts again with the application, after its saved position")]
        public static partial void WorkerFailed(ILogger logger, Exception exception, string handler);

        [LoggerMessage(EventId = 7012, Level = LogLevel.Error, Message = "Handler {Handler}'s pipeline reported {Kind}: {Message}")]
        public static partial void PipelineDiagnostic(ILogger logger, string handler, Hub.Stages.StageDiagnosticKind kind, string message);
    }
}
