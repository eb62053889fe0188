namespace Hub.Server.Handlers;

/// <summary>One <c>AddHandler</c>: the handler's name and type (its options are the named <see cref="HandlerOptions"/>).</summary>
internal sealed record HandlerRegistration(string Name, Type HandlerType);
