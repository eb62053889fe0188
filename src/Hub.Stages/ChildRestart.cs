namespace Hub.Stages;

/// <summary>When a <see cref="ConsumerSupervisor{T}"/> restarts a child that has ended (OTP's restart types).</summary>
public enum ChildRestart
{
    /// <summary>
    /// Always restart. Not supported by <see cref="ConsumerSupervisor{T}"/>, which rejects it: a child started for one
    /// event would be started again each time it finished and never free its slot (GenStage rejects it too).
    /// </summary>
    Permanent,

    /// <summary>Restart only after an abnormal end: the child's task faulted, or was cancelled other than by the supervisor stopping.</summary>
    Transient,

    /// <summary>Never restart (the default): however the child ends, its slot is freed.</summary>
    Temporary,
}
