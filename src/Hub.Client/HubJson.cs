using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hub.Client;

/// <summary>The JSON shapes of the wire (camelCase, nulls left out), for both hub protocols and the REST API.</summary>
internal static class HubJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
