using Microsoft.AspNetCore.SignalR.Client;

namespace Hub.Client;

/// <summary>
/// Reconnect delays: exponential from the initial delay, capped, with "equal jitter" (between half the step and the
/// whole step) so that many clients dropped at once do not come back at once. As hub-client.js's <c>backoffDelay</c>.
/// Never gives up: SignalR's automatic reconnect keeps trying until the client is disposed.
/// </summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan max, Func<double>? random = null) : IRetryPolicy
{
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;

    /// <summary>The delay before attempt number <paramref name="attempt"/> (0 for the first).</summary>
    public TimeSpan Delay(long attempt)
    {
        var step = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(Math.Round(step / 2 + _random() * (step / 2)));
    }

    /// <inheritdoc />
    public TimeSpan? NextRetryDelay(RetryContext retryContext) => Delay(retryContext.PreviousRetryCount);
}
