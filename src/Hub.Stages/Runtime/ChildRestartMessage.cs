namespace Hub.Stages.Runtime;

/// <summary>To a supervisor: try again to restart a child whose template threw on the last restart (GenStage's <c>$gen_restart</c>).</summary>
internal sealed class ChildRestartMessage<T>(ConsumerSupervisor<T> supervisor, ChildEntry<T> child) : StageMessage
{
    public override ValueTask InvokeAsync()
    {
        supervisor.OnRestartAgain(child);
        return ValueTask.CompletedTask;
    }
}
