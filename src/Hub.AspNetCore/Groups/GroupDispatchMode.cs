namespace Hub.Server.Groups;

/// <summary>How a group shares its events among its members.</summary>
public enum GroupDispatchMode
{
    /// <summary>Each event goes to the member holding the most credits (GenStage's DemandDispatcher).</summary>
    Demand,

    /// <summary>All events of one key go to the same member while membership holds (GenStage's PartitionDispatcher).</summary>
    Partition,
}
