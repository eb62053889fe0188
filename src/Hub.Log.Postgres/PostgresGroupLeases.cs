using Npgsql;
using NpgsqlTypes;

namespace Hub.Log.Postgres;

/// <summary>
/// A group's partitions leased to its holders in PostgreSQL (<c>hub_group_leases</c>, one row per partition;
/// <c>hub_group_holders</c>, one heartbeat per holder), so that members of one group on several nodes share its events:
/// see <see cref="IGroupLeases"/> for the design, <c>hub_group_lease</c> in <see cref="PostgresSchema"/> for one round.
/// </summary>
/// <remarks>
/// Expiry times are the nodes' clocks (as every time the log stores): nodes whose clocks differ by a good part of
/// <c>Hub:Log:Postgres:GroupLeaseTime</c> would take each other's leases early or late; NTP keeps them far closer than
/// the default 5 s. A lease taken early only redelivers (at least once), never loses an event.
/// </remarks>
internal sealed class PostgresGroupLeases(NpgsqlDataSource dataSource, EventLogOptions.PostgresOptions options, TimeProvider time) : IGroupLeases
{
    /// <inheritdoc />
    public bool ExpiresWithHolder => true;

    /// <inheritdoc />
    public TimeSpan RenewInterval => options.GroupRenewInterval;

    /// <inheritdoc />
    public TimeSpan LeaseTime => options.GroupLeaseTime;

    /// <inheritdoc />
    public async ValueTask<GroupLeaseGrant> RenewAsync(GroupLeaseRenewal renewal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(renewal);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(
                "SELECT partition, acknowledged, handed, share FROM hub_group_lease($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = renewal.Group.Name });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = renewal.Group.Identity });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = renewal.Holder });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = time.GetUtcNow().ToUnixTimeMilliseconds() });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)options.GroupLeaseTime.TotalMilliseconds });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = IGroupLeases.Partitions });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = renewal.Initial.Acknowledged });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = renewal.Initial.Handed });
            command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. renewal.Held.Select(p => p.Partition)] });
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. renewal.Held.Select(p => p.Acknowledged)] });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = renewal.Reserve });
            command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. renewal.Released.Select(p => p.Partition)] });
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. renewal.Released.Select(p => p.Acknowledged)] });
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. renewal.Released.Select(p => p.Handed)] });
            command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = renewal.Leaving, NpgsqlDbType = NpgsqlDbType.Boolean });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var held = new List<PartitionPosition>();
            var share = 0;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                share = reader.GetInt32(3);
                if (reader.GetInt32(0) >= 0)
                {
                    held.Add(new PartitionPosition(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2)));
                }
            }

            return new GroupLeaseGrant(held, share);
        }
        catch (Exception ex) when (PostgresEventLog.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new LogUnavailableException($"the group leases cannot be renewed: {ex.Message}", options.GroupRenewInterval, ex);
        }
    }
}
