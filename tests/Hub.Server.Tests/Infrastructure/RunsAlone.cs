namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// Tests that measure the whole process (managed memory with <c>GC.GetTotalMemory</c>) run in this collection, which
/// xunit runs after the parallel ones and by itself, so that no other test's allocations count against them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    /// <summary>The collection's name, for <c>[Collection(RunsAlone.Name)]</c>.</summary>
    public const string Name = "Runs alone";
}
