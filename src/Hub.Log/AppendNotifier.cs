namespace Hub.Log;

/// <summary>The one-shot listeners of a log, woken after an append, outside the log's locks.</summary>
internal sealed class AppendNotifier
{
    private readonly Lock _gate = new();
    private List<IAppendListener> _listeners = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _listeners.Count;
            }
        }
    }

    public void ListenOnce(IAppendListener listener)
    {
        lock (_gate)
        {
            _listeners.Add(listener);
        }
    }

    /// <summary>Tells every registered listener once, and forgets them (each list is handed over whole).</summary>
    public void Notify()
    {
        List<IAppendListener> toNotify;
        lock (_gate)
        {
            if (_listeners.Count == 0)
            {
                return;
            }

            toNotify = _listeners;
            _listeners = [];
        }

        foreach (var listener in toNotify)
        {
            listener.OnAppended();
        }
    }
}
