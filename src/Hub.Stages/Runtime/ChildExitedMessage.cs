namespace Hub.Stages.Runtime;

/// <summary>To a supervisor: one attempt of a child has ended (its task completed, faulted or was cancelled).</summary>
internal sealed class ChildExitedMessage<T>(ConsumerSupervisor<T> supervisor, ChildEntry<T> child, Task attempt) : StageMessage
{
    public override ValueTask InvokeAsync()
    {
        supervisor.OnChildExited(child, attempt);
        return ValueTask.CompletedTask;
    }
}
