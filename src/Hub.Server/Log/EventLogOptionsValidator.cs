using Microsoft.Extensions.Options;

namespace Hub.Server.Log;

/// <summary>Validates <see cref="EventLogOptions"/> with its nested sections (source-generated from the attributes).</summary>
[OptionsValidator]
internal sealed partial class EventLogOptionsValidator : IValidateOptions<EventLogOptions>;
