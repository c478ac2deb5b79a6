using System.Text.Json.Serialization;

namespace UserDataApi.UserData;

// The wire contract of the HyperID "user data by identity provider" family (SPEC §3): snake_case
// names, request_id echoed when sent, and every array present in every answer, failures included,
// because the Kotlin and Swift SDKs decode all fields before they look at `result`.

/// <summary>What every user-data request carries.</summary>
public interface IUserDataRequest
{
    long? RequestId { get; }
    string IdentityProvider { get; }
}

/// <summary>What every user-data answer carries; <see cref="Answer"/> builds one with empty payload.</summary>
public interface IUserDataResponse<out TSelf> where TSelf : IUserDataResponse<TSelf>
{
    static abstract TSelf Answer(long? requestId, ResultCode result);
}

public sealed record GetRequest : IUserDataRequest
{
    /// <summary>Opaque value echoed in the answer.</summary>
    [JsonPropertyName("request_id")]
    public long? RequestId { get; init; }

    /// <summary>An identity provider of the catalog, e.g. <c>telegram</c>.</summary>
    [JsonPropertyName("identity_provider")]
    public required string IdentityProvider { get; init; }

    /// <summary>The keys to read; duplicates are answered once.</summary>
    [JsonPropertyName("value_keys")]
    public required IReadOnlyList<string> ValueKeys { get; init; }
}

public sealed record UserDataValue(
    [property: JsonPropertyName("value_key")] string ValueKey,
    [property: JsonPropertyName("value_data")] string ValueData);

public sealed record GetResponse(
    [property: JsonPropertyName("request_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? RequestId,
    [property: JsonPropertyName("result")] ResultCode Result,
    [property: JsonPropertyName("values")] IReadOnlyList<UserDataValue> Values) : IUserDataResponse<GetResponse>
{
    public static GetResponse Answer(long? requestId, ResultCode result) => new(requestId, result, []);
}

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, AllowTrailingCommas = false)]
[JsonSerializable(typeof(GetRequest))]
[JsonSerializable(typeof(GetResponse))]
internal sealed partial class UserDataJsonContext : JsonSerializerContext;
