using System.Text.Json.Serialization;

namespace UserDataApi.UserData;

// The wire contract of HyperID's user-data families (SPEC §3): snake_case names, request_id echoed when
// sent, and every array present in every answer, failures included, because the Kotlin and Swift SDKs
// decode all fields before they look at `result`. The five requests below are by-user-id's and by-email's
// (which name no identity provider); by-idp's add `identity_provider` to each. Every answer is generic in
// its sub-family's table of result codes.

/// <summary>What every user-data request carries.</summary>
public abstract record UserDataRequest
{
    /// <summary>Opaque value echoed in the answer.</summary>
    /// <example>42</example>
    [JsonPropertyName("request_id")]
    public long? RequestId { get; init; }
}

/// <summary>A by-idp request: the records of the user under one identity provider.</summary>
public interface IIdentityProviderRequest
{
    string IdentityProvider { get; }
}

/// <summary>What every user-data answer carries.</summary>
public abstract record UserDataResponse<TCode>(
    [property: JsonPropertyName("request_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? RequestId,
    [property: JsonPropertyName("result")] TCode Result) where TCode : struct, Enum;

/// <summary>An answer type that can be built for any result with its payload empty.</summary>
public interface IUserDataResponse<out TSelf, TCode> where TSelf : IUserDataResponse<TSelf, TCode> where TCode : struct, Enum
{
    static abstract TSelf Answer(long? requestId, TCode result);
}

public record SetRequest : UserDataRequest
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

public sealed record SetResponse<TCode>(long? RequestId, TCode Result)
    : UserDataResponse<TCode>(RequestId, Result), IUserDataResponse<SetResponse<TCode>, TCode> where TCode : struct, Enum
{
    public static SetResponse<TCode> Answer(long? requestId, TCode result) => new(requestId, result);
}

public record GetRequest : UserDataRequest
{
    /// <summary>The keys to read (1 to <c>UserData:MaxKeysPerRequest</c>); duplicates are answered once.</summary>
    /// <example>["favourite_color"]</example>
    [JsonPropertyName("value_keys")]
    public required IReadOnlyList<string> ValueKeys { get; init; }
}

public sealed record UserDataValue(
    [property: JsonPropertyName("value_key")] string ValueKey,
    [property: JsonPropertyName("value_data")] string ValueData);

public sealed record GetResponse<TCode>(long? RequestId, TCode Result, [property: JsonPropertyName("values")] IReadOnlyList<UserDataValue> Values)
    : UserDataResponse<TCode>(RequestId, Result), IUserDataResponse<GetResponse<TCode>, TCode> where TCode : struct, Enum
{
    public static GetResponse<TCode> Answer(long? requestId, TCode result) => new(requestId, result, []);
}

public record ListGetRequest : UserDataRequest;

public sealed record ListGetResponse<TCode>(
    long? RequestId,
    TCode Result,
    [property: JsonPropertyName("keys_private")] IReadOnlyList<string> KeysPrivate,
    [property: JsonPropertyName("keys_public")] IReadOnlyList<string> KeysPublic)
    : UserDataResponse<TCode>(RequestId, Result), IUserDataResponse<ListGetResponse<TCode>, TCode> where TCode : struct, Enum
{
    public static ListGetResponse<TCode> Answer(long? requestId, TCode result) => new(requestId, result, [], []);
}

public record SharedListGetRequest : UserDataRequest
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

public sealed record SharedListGetResponse<TCode>(
    long? RequestId,
    TCode Result,
    [property: JsonPropertyName("keys_shared")] IReadOnlyList<string> KeysShared,
    [property: JsonPropertyName("next_search_id")] string NextSearchId)
    : UserDataResponse<TCode>(RequestId, Result), IUserDataResponse<SharedListGetResponse<TCode>, TCode> where TCode : struct, Enum
{
    public static SharedListGetResponse<TCode> Answer(long? requestId, TCode result) => new(requestId, result, [], "");
}

public record DeleteRequest : UserDataRequest
{
    /// <summary>The keys to remove (1 to <c>UserData:MaxKeysPerRequest</c>).</summary>
    /// <example>["favourite_color"]</example>
    [JsonPropertyName("value_keys")]
    public required IReadOnlyList<string> ValueKeys { get; init; }
}

public sealed record DeleteResponse<TCode>(long? RequestId, TCode Result)
    : UserDataResponse<TCode>(RequestId, Result), IUserDataResponse<DeleteResponse<TCode>, TCode> where TCode : struct, Enum
{
    public static DeleteResponse<TCode> Answer(long? requestId, TCode result) => new(requestId, result);
}

/// <summary>by-user-id delete: whether each distinct asked key was removed.</summary>
public sealed record KeyDeleteResult(
    [property: JsonPropertyName("value_key")] string ValueKey,
    [property: JsonPropertyName("is_deleted")] bool IsDeleted);

public sealed record ByUserIdDeleteResponse(
    long? RequestId,
    ByUserIdResultCode Result,
    [property: JsonPropertyName("keys_delete_results")] IReadOnlyList<KeyDeleteResult> KeysDeleteResults)
    : UserDataResponse<ByUserIdResultCode>(RequestId, Result), IUserDataResponse<ByUserIdDeleteResponse, ByUserIdResultCode>
{
    public static ByUserIdDeleteResponse Answer(long? requestId, ByUserIdResultCode result) => new(requestId, result, []);
}

// by-idp's requests: the same fields and the identity provider they are filed under.

public sealed record ByIdpSetRequest : SetRequest, IIdentityProviderRequest
{
    /// <summary>An identity provider of the catalog, e.g. <c>telegram</c>.</summary>
    /// <example>telegram</example>
    [JsonPropertyName("identity_provider")]
    public required string IdentityProvider { get; init; }
}

public sealed record ByIdpGetRequest : GetRequest, IIdentityProviderRequest
{
    /// <summary>An identity provider of the catalog, e.g. <c>telegram</c>.</summary>
    /// <example>telegram</example>
    [JsonPropertyName("identity_provider")]
    public required string IdentityProvider { get; init; }
}

public sealed record ByIdpListGetRequest : ListGetRequest, IIdentityProviderRequest
{
    /// <summary>An identity provider of the catalog, e.g. <c>telegram</c>.</summary>
    /// <example>telegram</example>
    [JsonPropertyName("identity_provider")]
    public required string IdentityProvider { get; init; }
}

public sealed record ByIdpSharedListGetRequest : SharedListGetRequest, IIdentityProviderRequest
{
    /// <summary>An identity provider of the catalog, e.g. <c>telegram</c>.</summary>
    /// <example>telegram</example>
    [JsonPropertyName("identity_provider")]
    public required string IdentityProvider { get; init; }
}

public sealed record ByIdpDeleteRequest : DeleteRequest, IIdentityProviderRequest
{
    /// <summary>An identity provider of the catalog, e.g. <c>telegram</c>.</summary>
    /// <example>telegram</example>
    [JsonPropertyName("identity_provider")]
    public required string IdentityProvider { get; init; }
}

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, AllowTrailingCommas = false, AllowDuplicateProperties = false)]
[JsonSerializable(typeof(ByIdpSetRequest))]
[JsonSerializable(typeof(ByIdpGetRequest))]
[JsonSerializable(typeof(ByIdpListGetRequest))]
[JsonSerializable(typeof(ByIdpSharedListGetRequest))]
[JsonSerializable(typeof(ByIdpDeleteRequest))]
[JsonSerializable(typeof(SetRequest))]
[JsonSerializable(typeof(GetRequest))]
[JsonSerializable(typeof(ListGetRequest))]
[JsonSerializable(typeof(SharedListGetRequest))]
[JsonSerializable(typeof(DeleteRequest))]
[JsonSerializable(typeof(SetResponse<ByIdpResultCode>))]
[JsonSerializable(typeof(GetResponse<ByIdpResultCode>))]
[JsonSerializable(typeof(ListGetResponse<ByIdpResultCode>))]
[JsonSerializable(typeof(SharedListGetResponse<ByIdpResultCode>))]
[JsonSerializable(typeof(DeleteResponse<ByIdpResultCode>))]
[JsonSerializable(typeof(SetResponse<ByUserIdResultCode>))]
[JsonSerializable(typeof(GetResponse<ByUserIdResultCode>))]
[JsonSerializable(typeof(ListGetResponse<ByUserIdResultCode>))]
[JsonSerializable(typeof(SharedListGetResponse<ByUserIdResultCode>))]
[JsonSerializable(typeof(ByUserIdDeleteResponse))]
[JsonSerializable(typeof(SetResponse<ByEmailResultCode>))]
[JsonSerializable(typeof(GetResponse<ByEmailResultCode>))]
[JsonSerializable(typeof(ListGetResponse<ByEmailResultCode>))]
[JsonSerializable(typeof(SharedListGetResponse<ByEmailResultCode>))]
[JsonSerializable(typeof(DeleteResponse<ByEmailResultCode>))]
internal sealed partial class UserDataJsonContext : JsonSerializerContext;
