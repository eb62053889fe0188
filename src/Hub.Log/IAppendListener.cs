namespace Hub.Log;

/// <summary>Told once, after the next append, that the head moved. Registering is one-shot: a listener that wants the
/// append after that registers again.</summary>
public interface IAppendListener
{
    /// <summary>Called after an append commits, outside any lock of the log. Must be cheap and must not throw.</summary>
    void OnAppended();
}
