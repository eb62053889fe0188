namespace Hub.Stages.Runtime;

/// <summary>Runs a caller's action on a stage's turn and reports its outcome.</summary>
internal sealed class InvokeMessage(Stage stage, Func<ValueTask> action) : StageMessage
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Task => _done.Task;

    public override async ValueTask InvokeAsync()
    {
        try
        {
            await action().ConfigureAwait(false);
            await stage.AfterInvokeMessageAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            _done.TrySetException(exception);
            throw;
        }

        _done.TrySetResult();
    }

    public override void DeadLetter() => _done.TrySetException(new InvalidOperationException($"Stage {stage} has stopped."));
}
