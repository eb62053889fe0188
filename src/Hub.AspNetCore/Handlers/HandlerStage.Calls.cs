using Microsoft.Extensions.Logging;

namespace Hub.Server.Handlers;

/// <summary>The calls of the handler for one batch: attempts with a doubling delay, then its events one by one, then dead letters.</summary>
internal sealed partial class HandlerStage
{
    /// <summary>Handles a batch with its retries; then, if it still fails, its events one by one, dead-lettering each that
    /// still fails. Throws only when stopping.</summary>
    private async Task HandleAsync(IReadOnlyList<HubEvent> events, CancellationToken token)
    {
        var (error, attempts) = await TryAsync(events, token).ConfigureAwait(false);
        if (error is null)
        {
            Interlocked.Add(ref _handled, events.Count);
            return;
        }

        if (events.Count == 1)
        {
            await DeadLetterAsync(events[0], error, attempts, token).ConfigureAwait(false);
            return;
        }

        Log.Isolating(_logger, Name, events.Count, events[0].Sequence, events[^1].Sequence);
        foreach (var e in events)
        {
            var (alone, more) = await TryAsync([e], token).ConfigureAwait(false);
            if (alone is null)
            {
                Interlocked.Increment(ref _handled);
            }
            else
            {
                await DeadLetterAsync(e, alone, attempts + more, token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Calls the handler up to <c>MaxAttempts</c> times; answers the last failure (null once it succeeds) and the
    /// attempts made.</summary>
    private async Task<(Exception? Error, int Attempts)> TryAsync(IReadOnlyList<HubEvent> events, CancellationToken token)
    {
        Exception? last = null;
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            try
            {
                var scope = _scopes.CreateAsyncScope();
                await using (scope.ConfigureAwait(false))
                {
                    var handler = (IEventHandler)scope.ServiceProvider.GetRequiredService(_handlerType);
                    await handler.HandleAsync(events, token).ConfigureAwait(false);
                }

                return (null, attempt);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                last = ex;
                Interlocked.Increment(ref _failures);
                Log.AttemptFailed(_logger, ex, Name, events.Count, events[0].Sequence, events[^1].Sequence, attempt, _options.MaxAttempts);
                if (attempt < _options.MaxAttempts)
                {
                    await Task.Delay(Backoff(attempt), _time, token).ConfigureAwait(false);
                }
            }
        }

        return (last, _options.MaxAttempts);
    }

    /// <summary>The wait after failed attempt <paramref name="attempt"/>: <c>RetryDelay</c>, doubling, at most <c>MaxRetryDelay</c>.</summary>
    private TimeSpan Backoff(int attempt) =>
        TimeSpan.FromTicks((long)Math.Min(_options.RetryDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30)), _options.MaxRetryDelay.Ticks));

    /// <summary>
    /// Gives up on <paramref name="e"/>: publishes the failure to the dead-letter topic (retrying while the log cannot take
    /// it, as the event is only passed once it is there), or only logs it without <c>DeadLetter</c> or for an event of the
    /// handler's own dead-letter topic (which would otherwise feed itself).
    /// </summary>
    private async Task DeadLetterAsync(HubEvent e, Exception error, int attempts, CancellationToken token)
    {
        var errorType = error.GetType().FullName ?? error.GetType().Name;
        if (!_options.DeadLetter || e.Topic == _deadLetterTopic)
        {
            Log.GaveUp(_logger, error, Name, e.Sequence, e.Topic, attempts);
            Interlocked.Increment(ref _deadLettered);
            return;
        }

        var message = error.Message.Length > DeadLetterEvent.MaxMessageLength ? error.Message[..DeadLetterEvent.MaxMessageLength] : error.Message;
        var letter = new NewEvent(_deadLetterTopic, new DeadLetterEvent(Name, e.Sequence, e.Topic, e.Type, e.Id, e.Key, attempts, errorType, message))
        {
            Type = DeadLetterEvent.EventType,
            Id = e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Key = e.Key,
        };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var published = await _publisher.PublishAsync(letter, token).ConfigureAwait(false);
                Interlocked.Increment(ref _deadLettered);
                Log.DeadLettered(_logger, error, Name, e.Sequence, e.Topic, attempts, _deadLetterTopic, published.Sequence);
                return;
            }
            catch (HubPublishException ex)
            {
                // Cannot happen for an event the log holds (its fields were valid); said, never silent.
                Log.GaveUp(_logger, ex, Name, e.Sequence, e.Topic, attempts);
                Interlocked.Increment(ref _deadLettered);
                return;
            }
            catch (Exception ex) when (!token.IsCancellationRequested)
            {
                // The log cannot take it now (unavailable, overloaded): wait and try again.
                Log.DeadLetterWaits(_logger, ex, Name, e.Sequence, attempt);
                await Task.Delay(Backoff(attempt), _time, token).ConfigureAwait(false);
            }
        }
    }
}
