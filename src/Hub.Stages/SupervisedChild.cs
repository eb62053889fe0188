namespace Hub.Stages;

/// <summary>One child of a <see cref="ConsumerSupervisor{T}"/>, as <see cref="ConsumerSupervisor{T}.WhichChildrenAsync"/> reports it.</summary>
/// <typeparam name="T">The event type.</typeparam>
/// <param name="Item">The event the child was started for.</param>
/// <param name="Restarting">True while a failed restart waits to be tried again (GenStage's <c>:restarting</c>).</param>
/// <param name="Restarts">How many times this child has been restarted.</param>
public readonly record struct SupervisedChild<T>(T Item, bool Restarting, int Restarts);
