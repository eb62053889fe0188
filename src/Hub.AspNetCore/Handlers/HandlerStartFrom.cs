namespace Hub.Server.Handlers;

/// <summary>Where a handler starts the first time (without a saved position; afterwards it resumes after it).</summary>
public enum HandlerStartFrom
{
    /// <summary>New events only: after the log's head when the handler first starts.</summary>
    Head,

    /// <summary>Everything the log still holds.</summary>
    Oldest,
}
