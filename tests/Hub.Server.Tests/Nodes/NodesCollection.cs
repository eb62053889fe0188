namespace Hub.Server.Tests.Nodes;

/// <summary>
/// The multi-node tests start two or three hub processes each (and PostgreSQL work for all of them): in one collection,
/// they run one class after another, beside the rest of the suite, so that no more than three nodes compete for the
/// machine's cores at once.
/// </summary>
[CollectionDefinition(Name)]
public sealed class NodesCollection
{
    /// <summary>The collection's name, for <c>[Collection(NodesCollection.Name)]</c>.</summary>
    public const string Name = "Several nodes";
}
