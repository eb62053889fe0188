using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Hub.Log;

/// <summary>
/// Validates <see cref="EventLogOptions"/> with its nested sections (source-generated from the attributes), and names
/// each failing setting by its configuration key: the generated validator ignores a range's <c>ErrorMessage</c> and
/// says <c>EventLogOptions.Retention.MaxEvents</c>, which becomes <c>Hub:Log:Retention:MaxEvents</c>.
/// </summary>
internal sealed partial class EventLogOptionsValidator : IValidateOptions<EventLogOptions>
{
    private readonly GeneratedValidator _generated = new();

    public ValidateOptionsResult Validate(string? name, EventLogOptions options)
    {
        var result = _generated.Validate(name, options);
        var failures = result.Failed
            ? result.Failures!.Select(f => MemberPath().Replace(f, m => EventLogOptions.Section + ":" + m.Groups[1].Value.Replace('.', ':'))).ToList()
            : [];
        if (string.Equals(options.Kind, EventLogOptions.KindPostgres, StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(options.Postgres.ConnectionString))
        {
            failures.Add("Hub:Log:Postgres:ConnectionString must name the database when Hub:Log:Kind is 'Postgres'.");
        }

        if (options.Postgres.GroupRenewInterval * 2 > options.Postgres.GroupLeaseTime)
        {
            failures.Add("Hub:Log:Postgres:GroupRenewInterval must be at most half of Hub:Log:Postgres:GroupLeaseTime (a lease is renewed at least twice before it expires).");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : result;
    }

    [GeneratedRegex(@"\bEventLogOptions\.([A-Za-z0-9_.]+[A-Za-z0-9_])")]
    private static partial Regex MemberPath();

    [OptionsValidator]
    internal sealed partial class GeneratedValidator : IValidateOptions<EventLogOptions>;
}
