using System.Globalization;
using Npgsql;

namespace Hub.Log.Postgres;

public sealed partial class PostgresEventLog
{
    /// <summary>How long the listener waits before connecting again after its connection failed (doubling up to the poll interval's 10 times).</summary>
    private static readonly TimeSpan ListenRetry = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Other nodes' commits, told to the node: <c>LISTEN hub_head</c> on a connection of its own, each notification's head
    /// told at once (<see cref="IStoreFeed.HeadMoved"/>), and the head (with where the log starts) read at least every
    /// <c>PollInterval</c>, however many notifications came, and right after every (re)connect: LISTEN first, then read,
    /// so a commit made while the connection was down is found by the read, and one made after by its notification.
    /// </summary>
    private async Task ListenLoopAsync()
    {
        var token = _stopping.Token;
        var retry = ListenRetry;
        var broken = false;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(token).ConfigureAwait(false);
                connection.Notification += (_, notification) => OnNotification(notification.Payload);
                // Named, so that an operator sees which connection listens (pg_stat_activity).
                await using (var listen = new NpgsqlCommand(
                    $"SELECT set_config('application_name', left(current_setting('application_name'), 50) || ' listener', false); LISTEN {_channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(token).ConfigureAwait(false);
                }

                await PollAsync(connection, token).ConfigureAwait(false);
                if (broken)
                {
                    Log.ListeningAgain(_logger, Database);
                    broken = false;
                }

                retry = ListenRetry;
                var lastPoll = _time.GetTimestamp();
                while (!token.IsCancellationRequested)
                {
                    // In whole milliseconds, at least one: Npgsql takes a wait of 0 ms as "forever".
                    var wait = Math.Ceiling((_postgres.PollInterval - _time.GetElapsedTime(lastPoll)).TotalMilliseconds);
                    if (wait >= 1)
                    {
                        await connection.WaitAsync(TimeSpan.FromMilliseconds(wait), token).ConfigureAwait(false);
                    }

                    if (_time.GetElapsedTime(lastPoll) >= _postgres.PollInterval)
                    {
                        await PollAsync(connection, token).ConfigureAwait(false);
                        lastPoll = _time.GetTimestamp();
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                if (!broken)
                {
                    Log.ListenFailed(_logger, ex, Database, retry.TotalMilliseconds);
                    broken = true;
                }

                try
                {
                    await Task.Delay(retry, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, _postgres.PollInterval.Ticks * 10));
            }
            catch (Exception ex)
            {
                // Not a connection's trouble (the tables gone, a bug): the node would never again learn of other nodes.
                Fail($"its listener stopped on {ex.GetType().Name}: {ex.Message}", ex);
                return;
            }
        }
    }

    /// <summary>A notification: <c>'head node'</c>. This node's own are ignored (its writer tells the node, with the entries).</summary>
    private void OnNotification(string payload)
    {
        var space = payload.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || !long.TryParse(payload.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var head))
        {
            Log.StrangeNotification(_logger, payload);
            return;
        }

        if (payload.AsSpan(space + 1).SequenceEqual(NodeId))
        {
            return;
        }

        Told(head);
    }

    /// <summary>Reads the head and where the log starts; tells the node of a head it may lack.</summary>
    private async Task PollAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT h.head, r.first_retained FROM hub_head h, hub_retention r", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            Retained(reader.GetInt64(1));
            Told(reader.GetInt64(0));
        }
    }

    /// <summary>
    /// The store's head is at least <paramref name="head"/>: the node is told (it reads what it lacks and ignores what it
    /// has, so telling it twice, or of a head it reached by its own commit, costs nothing).
    /// </summary>
    private void Told(long head)
    {
        Advanced(head);
        _feed!.HeadMoved(head);
    }
}
