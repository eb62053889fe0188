namespace Hub.Baseline;

/// <summary>The baseline's hub: clients connect and receive <c>events</c>; there is nothing to call.</summary>
public sealed class EventsHub : Microsoft.AspNetCore.SignalR.Hub;
