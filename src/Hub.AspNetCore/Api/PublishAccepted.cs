using System.Buffers;
using System.Reflection;
using System.Text.Json;
using Hub.Log;
using Microsoft.AspNetCore.Http.Metadata;

namespace Hub.Server.Api;

/// <summary>
/// The 202 of <c>POST /api/events</c>: <see cref="PublishResponse"/>'s JSON (<c>{"events":[{"sequence":…,"topic":…,
/// "id":…,"duplicate":…}]}</c>, as the serializer writes it with the API's camelCase names), written straight from the
/// appended events with one writer into one buffer and sent with its length. The serializer's per-request type lookup
/// and the copy into a response object cost more than the answer itself at small batches.
/// </summary>
internal sealed class PublishAccepted(IReadOnlyList<AppendedEvent> appended) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    private static readonly JsonEncodedText EventsProperty = JsonEncodedText.Encode("events"), SequenceProperty = JsonEncodedText.Encode("sequence"),
        TopicProperty = JsonEncodedText.Encode("topic"), IdProperty = JsonEncodedText.Encode("id"), DuplicateProperty = JsonEncodedText.Encode("duplicate");

    /// <summary>The events answered, in the order sent.</summary>
    public IReadOnlyList<AppendedEvent> Appended => appended;

    /// <inheritdoc />
    public int? StatusCode => StatusCodes.Status202Accepted;

    /// <summary>Writes the body into <paramref name="output"/>.</summary>
    internal static void Write(IReadOnlyList<AppendedEvent> appended, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        writer.WriteStartObject();
        writer.WriteStartArray(EventsProperty);
        for (var i = 0; i < appended.Count; i++)
        {
            var a = appended[i];
            writer.WriteStartObject();
            writer.WriteNumber(SequenceProperty, a.Sequence);
            writer.WriteString(TopicProperty, a.Topic);
            if (a.Id is null)
            {
                writer.WriteNull(IdProperty);
            }
            else
            {
                writer.WriteString(IdProperty, a.Id);
            }

            writer.WriteBoolean(DuplicateProperty, a.Duplicate);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <inheritdoc />
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var buffer = new ArrayBufferWriter<byte>(32 + (appended.Count * 64));
        Write(appended, buffer);
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status202Accepted;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        await response.BodyWriter.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Declares the 202 and its body's type, as <c>Accepted&lt;PublishResponse&gt;</c> did.</summary>
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status202Accepted, typeof(PublishResponse), ["application/json"]));
    }
}
