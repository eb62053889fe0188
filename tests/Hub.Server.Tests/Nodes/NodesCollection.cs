namespace Hub.Server.Tests.Nodes;

/// <summary>
/// The multi-node tests start two or three hub processes each (and PostgreSQL work for all of them), and what they
/// check runs on the nodes' own clocks: lease expiry and failover, a PostgreSQL stopped under load and the 503s that
/// must follow within the test's deadline. In one collection they run one class after another; with parallelization off,
/// xunit runs the collection after the parallel ones and by itself, so the rest of the suite's CPU does not stretch
/// the nodes' timings (with the whole suite beside it, a publish into a PostgreSQL being stopped was once seen to wait
/// past the test's deadline on a two-core machine).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodesCollection
{
    /// <summary>The collection's name, for <c>[Collection(NodesCollection.Name)]</c>.</summary>
    public const string Name = "Several nodes";
}
