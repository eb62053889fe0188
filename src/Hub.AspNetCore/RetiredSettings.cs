using Hub.Log;
using Microsoft.Extensions.Options;

namespace Hub.Server;

/// <summary>
/// Settings the hub once read and no longer does: one that is still set stops the start, naming what replaced it,
/// instead of being ignored while the operator believes it applies.
/// </summary>
internal sealed class RetiredSettings(IConfiguration configuration) : IValidateOptions<EventLogOptions>
{
    private static readonly (string Key, string Instead)[] Retired =
    [
        ("Hub:Log:Sqlite:Synchronous", "Hub:Log:Sqlite:Durability: Flush (an fsync per group commit, as Synchronous=Full did) or Process (no fsync, as Synchronous=Normal did)"),
    ];

    public ValidateOptionsResult Validate(string? name, EventLogOptions options)
    {
        var set = Retired.Where(r => configuration[r.Key] is not null).Select(r => $"{r.Key} is no longer read; use {r.Instead}.").ToArray();
        return set.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(set);
    }
}
