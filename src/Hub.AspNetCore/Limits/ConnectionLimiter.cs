using Microsoft.Extensions.Options;

namespace Hub.Server.Limits;

/// <summary>Counts the open hub connections per credential and refuses one past
/// <see cref="LimitsOptions.MaxConnectionsPerSubject"/>.</summary>
internal sealed class ConnectionLimiter(IOptions<LimitsOptions> options)
{
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal); // under _gate
    private readonly Lock _gate = new();

    /// <summary>The most connections per subject.</summary>
    public int Limit { get; } = options.Value.MaxConnectionsPerSubject;

    /// <summary>Takes a place for <paramref name="subject"/>; false when it already holds <see cref="Limit"/>.</summary>
    public bool TryAcquire(string subject)
    {
        lock (_gate)
        {
            var open = _open.GetValueOrDefault(subject);
            if (open >= Limit)
            {
                return false;
            }

            _open[subject] = open + 1;
            return true;
        }
    }

    /// <summary>Gives back a place taken by <see cref="TryAcquire"/>.</summary>
    public void Release(string subject)
    {
        lock (_gate)
        {
            if (_open.TryGetValue(subject, out var open))
            {
                if (open <= 1)
                {
                    _open.Remove(subject);
                }
                else
                {
                    _open[subject] = open - 1;
                }
            }
        }
    }

    /// <summary>The connections <paramref name="subject"/> holds now.</summary>
    public int Count(string subject)
    {
        lock (_gate)
        {
            return _open.GetValueOrDefault(subject);
        }
    }
}
