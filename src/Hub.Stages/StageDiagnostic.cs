namespace Hub.Stages;

/// <summary>Something a stage reports instead of logging (the library has no logging dependency).</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Count">How many events it concerned.</param>
/// <param name="Message">A readable description.</param>
public sealed record StageDiagnostic(StageDiagnosticKind Kind, long Count, string Message);
