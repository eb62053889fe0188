namespace Hub.LoadGen;

/// <summary>The server's resident memory (KiB) before the subscribers connected, once they were, and at its peak.</summary>
internal sealed record ServerFigures(int Pid, long RssBeforeKb, long RssConnectedKb, long PeakRssKb, long VmHwmKb, double BytesPerConnection);
