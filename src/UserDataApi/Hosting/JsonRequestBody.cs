using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace UserDataApi.Hosting;

/// <summary>Reads a JSON request body: at most <see cref="MaxBytes"/> (SPEC §7), never throwing on bad input.</summary>
public static class JsonRequestBody
{
    public const int MaxBytes = 1024 * 1024;

    /// <summary>
    /// A refused body up to this size is still read to its end by Kestrel after the answer (for at most
    /// its drain time of 5 s): a client that is still sending when the server closes would otherwise see
    /// a connection reset, not the answer. Larger bodies are cut off, and their connection closed.
    /// </summary>
    public const int DrainBytes = 8 * MaxBytes;

    /// <summary>
    /// The parsed request, or null when the body is not an acceptable request of this type. An empty
    /// body is null too, unless <paramref name="whenEmpty"/> says what it stands for.
    /// </summary>
    public static async ValueTask<TRequest?> ReadAsync<TRequest>(
        HttpRequest request, JsonTypeInfo<TRequest> type, CancellationToken cancellationToken, Func<TRequest>? whenEmpty = null)
        where TRequest : class
    {
        if (!IsJson(request.ContentType) || await ReadRentedAsync(request, cancellationToken) is not var (buffer, length))
        {
            return null;
        }
        try
        {
            if (length == 0 && whenEmpty is not null)
            {
                return whenEmpty();
            }
            // JSON text is UTF-8 (RFC 8259); the reader would skip invalid bytes inside an ignored field.
            var body = buffer.AsSpan(0, length);
            return Utf8.IsValid(body) ? JsonSerializer.Deserialize(body, type) : null;
        }
        catch (JsonException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A JSON object body, checked as strictly as <see cref="ReadAsync{TRequest}"/> checks one (UTF-8, one value, no
    /// duplicate property names, at most 64 levels deep), for parsers that are laxer (protobuf's JSON): its text, or null.
    /// An empty body stands for <c>{}</c> when <paramref name="emptyIsObject"/>.
    /// </summary>
    public static async Task<string?> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken, bool emptyIsObject = false)
    {
        if (!IsJson(request.ContentType) || await ReadRentedAsync(request, cancellationToken) is not var (buffer, length))
        {
            return null;
        }
        try
        {
            if (length == 0)
            {
                return emptyIsObject ? "{}" : null;
            }
            var body = buffer.AsMemory(0, length);
            if (!Utf8.IsValid(body.Span))
            {
                return null;
            }
            using var document = JsonDocument.Parse(body, StrictJson);
            return document.RootElement.ValueKind == JsonValueKind.Object ? Encoding.UTF8.GetString(body.Span) : null;
        }
        catch (JsonException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The body's bytes, whatever its type (binary protobuf, say), or null when it is over <paramref name="maxBytes"/>
    /// (<see cref="MaxBytes"/> unless a framing around the message needs a few more) or does not arrive whole.
    /// <paramref name="body"/> reads it through another view than <see cref="HttpRequest.Body"/> (a decoding pipe, say).
    /// </summary>
    public static async Task<byte[]?> ReadBytesAsync(HttpRequest request, CancellationToken cancellationToken, int maxBytes = MaxBytes, Stream? body = null)
    {
        if (await ReadRentedAsync(request, cancellationToken, maxBytes, body) is not var (buffer, length))
        {
            return null;
        }
        var bytes = buffer.AsSpan(0, length).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);
        return bytes;
    }

    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <summary>The body in a pooled buffer (the caller returns it), or null when it is refused.</summary>
    private static async ValueTask<(byte[] Buffer, int Length)?> ReadRentedAsync(
        HttpRequest request, CancellationToken cancellationToken, int maxBytes = MaxBytes, Stream? body = null)
    {
        body ??= request.Body;
        if (request.ContentLength > DrainBytes)
        {
            return null;
        }
        // Kestrel's limit (MaxBytes, for every other body) would stop it from draining a refused body;
        // this code itself reads no more than MaxBytes.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = DrainBytes;
        }
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return (buffer, length);
                }
                length += read;
                if (length > maxBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch (BadHttpRequestException)
        {
            // Kestrel's body limit, or a body that does not arrive whole.
            ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }
    }

    /// <summary>No content type at all is taken as JSON; any other must be application/json or a +json type.</summary>
    public static bool IsJson(string? contentType)
    {
        // No type, or the one nearly every client sends: no parsing needed.
        if (string.IsNullOrEmpty(contentType) || contentType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            return false;
        }
        var subtype = mediaType.SubType;
        return mediaType.Type.Equals("application", StringComparison.OrdinalIgnoreCase)
               && (subtype.Equals("json", StringComparison.OrdinalIgnoreCase) || subtype.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }
}
