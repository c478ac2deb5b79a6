using System.Text.Json.Serialization;

namespace UserDataApi.UserData;

// The wire contract of the HyperID "user data by identity provider" family (SPEC §3): snake_case
// names, request_id echoed when sent, and every array present in every answer, failures included,
// because the Kotlin and Swift SDKs decode all fields before they look at `result`.

/// <summary>What every user-data request carries.</summary>
public abstract record UserDataRequest
{
    /// <summary>Opaque value echoed in the answer.</summary>
    /// <example>42</example>
    [JsonPropertyName("request_id")]
    public long? RequestId { get; init; }

    /// <summary>An identity provider of the catalog, e.g. <c>telegram</c>.</summary>
    /// <example>telegram</example>
    [JsonPropertyName("identity_provider")]
    public required string IdentityProvider { get; init; }
}

/// <summary>What every user-data answer carries.</summary>
public abstract record UserDataResponse(
    [property: JsonPropertyName("request_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? RequestId,
    [property: JsonPropertyName("result")] ResultCode Result);

/// <summary>An answer type that can be built for any result with its payload empty.</summary>
public interface IUserDataResponse<out TSelf> where TSelf : IUserDataResponse<TSelf>
{
    static abstract TSelf Answer(long? requestId, ResultCode result);
}

public sealed record SetRequest : UserDataRequest
{
    /// <summary>1 to <c>UserData:MaxKeyLength</c> characters, no control characters.</summary>
    /// <example>favourite_color</example>
    [JsonPropertyName("value_key")]
    public required string ValueKey { get; init; }

    /// <summary>Up to <c>UserData:MaxValueLength</c> characters, no NUL.</summary>
    /// <example>blue</example>
    [JsonPropertyName("value_data")]
    public required string ValueData { get; init; }

    /// <summary>0 private (only this client app reads it), 1 public (every client app of the user reads it; default).</summary>
    /// <example>0</example>
    [JsonPropertyName("access_scope")]
    public int? AccessScope { get; init; }
}

public sealed record SetResponse(
    long? RequestId,
    ResultCode Result) : UserDataResponse(RequestId, Result), IUserDataResponse<SetResponse>
{
    public static SetResponse Answer(long? requestId, ResultCode result) => new(requestId, result);
}

public sealed record GetRequest : UserDataRequest
{
    /// <summary>The keys to read (1 to <c>UserData:MaxKeysPerRequest</c>); duplicates are answered once.</summary>
    /// <example>["favourite_color"]</example>
    [JsonPropertyName("value_keys")]
    public required IReadOnlyList<string> ValueKeys { get; init; }
}

public sealed record UserDataValue(
    [property: JsonPropertyName("value_key")] string ValueKey,
    [property: JsonPropertyName("value_data")] string ValueData);

public sealed record GetResponse(
    long? RequestId,
    ResultCode Result,
    [property: JsonPropertyName("values")] IReadOnlyList<UserDataValue> Values) : UserDataResponse(RequestId, Result), IUserDataResponse<GetResponse>
{
    public static GetResponse Answer(long? requestId, ResultCode result) => new(requestId, result, []);
}

public sealed record ListGetRequest : UserDataRequest;

public sealed record ListGetResponse(
    long? RequestId,
    ResultCode Result,
    [property: JsonPropertyName("keys_private")] IReadOnlyList<string> KeysPrivate,
    [property: JsonPropertyName("keys_public")] IReadOnlyList<string> KeysPublic) : UserDataResponse(RequestId, Result), IUserDataResponse<ListGetResponse>
{
    public static ListGetResponse Answer(long? requestId, ResultCode result) => new(requestId, result, [], []);
}

public sealed record SharedListGetRequest : UserDataRequest
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>The previous answer's <c>next_search_id</c>; absent or empty for the first page.</summary>
    [JsonPropertyName("search_id")]
    public string? SearchId { get; init; }

    /// <summary>Keys per page, 1 to 1000 (default 100).</summary>
    /// <example>100</example>
    [JsonPropertyName("page_size")]
    public uint? PageSize { get; init; }
}

public sealed record SharedListGetResponse(
    long? RequestId,
    ResultCode Result,
    [property: JsonPropertyName("keys_shared")] IReadOnlyList<string> KeysShared,
    [property: JsonPropertyName("next_search_id")] string NextSearchId) : UserDataResponse(RequestId, Result), IUserDataResponse<SharedListGetResponse>
{
    public static SharedListGetResponse Answer(long? requestId, ResultCode result) => new(requestId, result, [], "");
}

public sealed record DeleteRequest : UserDataRequest
{
    /// <summary>The keys to remove (1 to <c>UserData:MaxKeysPerRequest</c>); all must belong to the caller's client app.</summary>
    /// <example>["favourite_color"]</example>
    [JsonPropertyName("value_keys")]
    public required IReadOnlyList<string> ValueKeys { get; init; }
}

public sealed record DeleteResponse(
    long? RequestId,
    ResultCode Result) : UserDataResponse(RequestId, Result), IUserDataResponse<DeleteResponse>
{
    public static DeleteResponse Answer(long? requestId, ResultCode result) => new(requestId, result);
}

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, AllowTrailingCommas = false, AllowDuplicateProperties = false)]
[JsonSerializable(typeof(SetRequest))]
[JsonSerializable(typeof(SetResponse))]
[JsonSerializable(typeof(GetRequest))]
[JsonSerializable(typeof(GetResponse))]
[JsonSerializable(typeof(ListGetRequest))]
[JsonSerializable(typeof(ListGetResponse))]
[JsonSerializable(typeof(SharedListGetRequest))]
[JsonSerializable(typeof(SharedListGetResponse))]
[JsonSerializable(typeof(DeleteRequest))]
[JsonSerializable(typeof(DeleteResponse))]
internal sealed partial class UserDataJsonContext : JsonSerializerContext;
