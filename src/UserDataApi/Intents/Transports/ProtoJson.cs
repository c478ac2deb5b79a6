using System.Buffers;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.ObjectPool;
using UserDataApi.Hosting;

namespace UserDataApi.Intents.Transports;

/// <summary>
/// ZITADEL's messages as JSON, the way its REST gateway and Connect write them (protojson): lowerCamel names, zero
/// values left out, 64-bit integers as strings, timestamps RFC 3339 in UTC, enums by name, unknown fields ignored.
/// </summary>
public static class ProtoJson
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>
    /// The body as a <typeparamref name="TMessage"/>, or null when it is not one. The body is first held to the same
    /// rules as every JSON body here (<see cref="JsonRequestBody.ReadObjectAsync"/>): protobuf's own JSON reader
    /// is laxer (duplicate names, depth).
    /// </summary>
    public static async Task<TMessage?> ReadAsync<TMessage>(HttpRequest request, bool emptyIsObject = false)
        where TMessage : class, IMessage<TMessage>, new()
    {
        return await JsonRequestBody.ReadObjectAsync(request, request.HttpContext.RequestAborted, emptyIsObject) is { } json
            ? Parse(json, new TMessage().Descriptor) as TMessage
            : null;
    }

    /// <summary>Parses JSON text as a message of <paramref name="descriptor"/>; null when it is not one.</summary>
    public static IMessage? Parse(string json, Google.Protobuf.Reflection.MessageDescriptor descriptor)
    {
        try
        {
            return Parser.Parse(json, descriptor);
        }
        catch (Exception exception) when (exception is InvalidProtocolBufferException or InvalidJsonException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>
    /// Builders for the text, kept between calls: an answer with a provider's tokens and claims runs to several
    /// kilobytes, which a new builder would otherwise grow to, chunk by chunk, on every call.
    /// </summary>
    private static readonly ObjectPool<StringBuilder> Builders =
        new DefaultObjectPoolProvider().CreateStringBuilderPool(initialCapacity: 16 * 1024, maximumRetainedCapacity: 64 * 1024);

    public static string Format(IMessage message)
    {
        var builder = Formatted(message);
        try
        {
            return builder.ToString();
        }
        finally
        {
            Builders.Return(builder);
        }
    }

    /// <summary>A pooled builder holding the message's protojson; the caller returns it to <see cref="Builders"/>.</summary>
    private static StringBuilder Formatted(IMessage message)
    {
        var builder = Builders.Get();
        JsonFormatter.Default.Format(message, new StringWriter(builder, CultureInfo.InvariantCulture));
        return builder;
    }

    /// <summary>200 with the message as protojson.</summary>
    public static IResult Ok(IMessage message) => new ProtoJsonResult(message);

    private sealed class ProtoJsonResult(IMessage message) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var builder = Formatted(message);
            byte[] utf8;
            int length;
            try
            {
                (utf8, length) = Utf8(builder);
            }
            finally
            {
                Builders.Return(builder);
            }
            try
            {
                httpContext.Response.StatusCode = StatusCodes.Status200OK;
                await httpContext.Response.WriteJsonAsync(utf8.AsMemory(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(utf8);
            }
        }

        /// <summary>
        /// The builder's text in UTF-8, in a pooled buffer (the caller returns it), so that the answer goes out at once with its
        /// length rather than chunked: straight from the builder's chunks, without a string of the whole answer in between.
        /// </summary>
        private static (byte[] Buffer, int Length) Utf8(StringBuilder builder)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(builder.Length));
            var encoder = Encoding.UTF8.GetEncoder();
            var length = 0;
            foreach (var chunk in builder.GetChunks())
            {
                length += encoder.GetBytes(chunk.Span, buffer.AsSpan(length), flush: false);
            }
            length += encoder.GetBytes([], buffer.AsSpan(length), flush: true);
            return (buffer, length);
        }
    }
}
