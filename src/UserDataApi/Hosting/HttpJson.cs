using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace UserDataApi.Hosting;

public static class HttpJson
{
    /// <summary>
    /// Answers omit absent (null) values, as both wire formats do; each API family adds its own
    /// source-generated contract (property names are declared there, not by a naming policy here).
    /// </summary>
    public static WebApplicationBuilder ConfigureJsonAnswers(this WebApplicationBuilder builder, params JsonSerializerContext[] contracts)
    {
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            foreach (var contract in contracts.Reverse())
            {
                json.SerializerOptions.TypeInfoResolverChain.Insert(0, contract);
            }
        });
        return builder;
    }

    /// <summary>
    /// Writes <paramref name="value"/> as the whole JSON body, with its <c>Content-Length</c>: serialized at once into a
    /// buffer of System.Text.Json's own, so the answer goes out in one piece rather than chunked.
    /// </summary>
    public static Task WriteJsonAsync<T>(this HttpResponse response, T value, JsonTypeInfo<T> type) =>
        response.WriteJsonAsync(JsonSerializer.SerializeToUtf8Bytes(value, type));

    /// <summary>Writes <paramref name="utf8Json"/>, JSON text already in UTF-8, as the whole body, with its <c>Content-Length</c>.</summary>
    public static Task WriteJsonAsync(this HttpResponse response, ReadOnlyMemory<byte> utf8Json)
    {
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = utf8Json.Length;
        return response.Body.WriteAsync(utf8Json).AsTask();
    }
}

/// <summary>
/// HTTP 200 with <typeparamref name="T"/> as JSON, in the shape the configured HTTP JSON options give it (as
/// <c>TypedResults.Ok</c> writes it, and described the same way in the OpenAPI document), sent with its length.
/// </summary>
public sealed class JsonAnswer<T>(T value) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<T>, IEndpointMetadataProvider
{
    public T Value => value;

    object? IValueHttpResult.Value => value;

    public int StatusCode => StatusCodes.Status200OK;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var options = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        httpContext.Response.StatusCode = StatusCode;
        return httpContext.Response.WriteJsonAsync(value, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));
}
