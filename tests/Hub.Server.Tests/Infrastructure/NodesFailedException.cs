namespace Hub.Server.Tests.Infrastructure;

/// <summary>A multi-node test's failure (an assertion or anything else), with the end of every node's output appended,
/// since what a node logged is usually why.</summary>
public sealed class NodesFailedException(Exception failure, HubNodes nodes)
    : Exception($"{failure.GetType().Name}: {failure.Message}\n{nodes.Output}", failure);
