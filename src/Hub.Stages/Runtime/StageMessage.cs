namespace Hub.Stages.Runtime;

/// <summary>One message in a stage's mailbox; it knows its handler, so the stage never inspects its type.</summary>
internal abstract class StageMessage
{
    /// <summary>Handles the message on the receiving stage's turn.</summary>
    public abstract ValueTask InvokeAsync();

    /// <summary>Called instead of <see cref="InvokeAsync"/> when the receiving stage has stopped.</summary>
    public virtual void DeadLetter()
    {
    }
}
