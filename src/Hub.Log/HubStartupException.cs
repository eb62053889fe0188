namespace Hub;

/// <summary>The hub cannot start; the message names the setting at fault and what is wrong with it.</summary>
public sealed class HubStartupException(string message, Exception? inner = null) : Exception(message, inner);
