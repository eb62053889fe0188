namespace Hub.Stages.Runtime;

/// <summary>Asks a stage to stop.</summary>
internal sealed class StopMessage(Stage stage, StageExitReason reason) : StageMessage
{
    public override ValueTask InvokeAsync() => stage.HandleStopMessageAsync(reason);
}
