using System.Text.Json;
using System.Text.Json.Serialization;

namespace UserDataApi.Intents;

// The wire contract of the ZITADEL v2 family (SPEC §4): camelCase as the REST gateway writes it,
// 64-bit numbers as strings (proto3 JSON), timestamps RFC 3339 UTC, absent values omitted.

public sealed record RedirectUrls
{
    /// <example>https://login.example.com/idp/success</example>
    public string? SuccessUrl { get; init; }

    /// <example>https://login.example.com/idp/failure</example>
    public string? FailureUrl { get; init; }
}

public sealed record StartIntentRequest
{
    /// <summary>A provider configured under <c>Intents:Providers</c>.</summary>
    /// <example>google</example>
    public string? IdpId { get; init; }

    public RedirectUrls? Urls { get; init; }
}

public sealed record Details(
    [property: JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)] long Sequence,
    DateTime ChangeDate,
    string ResourceOwner,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTime? CreationDate);

public sealed record StartIntentResponse(Details Details, string AuthUrl);

public sealed record RetrieveIntentRequest
{
    /// <summary>The token the success URL received.</summary>
    public string? IdpIntentToken { get; init; }
}

public sealed record OAuthInformation(string? AccessToken, string? IdToken);

public sealed record IdpInformation(string IdpId, string UserId, string? UserName, JsonElement RawInformation, OAuthInformation Oauth);

public sealed record Profile(
    string? GivenName, string? FamilyName, string? NickName, string? DisplayName, string PreferredLanguage, string Gender = "GENDER_UNSPECIFIED");

public sealed record Email([property: JsonPropertyName("email")] string Address, bool IsVerified);

public sealed record Phone([property: JsonPropertyName("phone")] string Number, bool IsVerified);

public sealed record IdpLinkInfo(string IdpId, string UserId, string UserName);

public sealed record AddHumanUser(string? Username, Profile Profile, Email? Email, Phone? Phone, IReadOnlyList<IdpLinkInfo> IdpLinks);

public sealed record UpdateHumanUser(string UserId, string? Username, Profile Profile, Email? Email, Phone? Phone);

public sealed record CreateUserHuman(Profile Profile, Email? Email, Phone? Phone, IReadOnlyList<IdpLinkInfo> IdpLinks);

public sealed record CreateUser(string OrganizationId, string? UserId, string? Username, CreateUserHuman Human);

public sealed record RetrieveIntentResponse(
    Details Details,
    IdpInformation IdpInformation,
    string? UserId,
    AddHumanUser? AddHumanUser,
    UpdateHumanUser? UpdateHumanUser,
    CreateUser CreateUser);

public sealed record AddLinkRequest
{
    public IdpLinkInfo? IdpLink { get; init; }
}

public sealed record DetailsResponse(Details Details);

public sealed record ListQuery
{
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)]
    public long? Offset { get; init; }

    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)]
    public int? Limit { get; init; }

    public bool? Asc { get; init; }
}

public sealed record ListLinksRequest
{
    public ListQuery? Query { get; init; }
}

public sealed record ListDetails(
    [property: JsonNumberHandling(JsonNumberHandling.WriteAsString)] long TotalResult,
    DateTime Timestamp);

public sealed record ListLinksResponse(ListDetails Details, IReadOnlyList<IdpLinkInfo> Result);

/// <summary>The REST gateway's error body: a gRPC status code, a message, and (here always empty) details.</summary>
public sealed record GatewayError(int Code, string Message, IReadOnlyList<JsonElement> Details);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, AllowDuplicateProperties = false)]
[JsonSerializable(typeof(StartIntentRequest))]
[JsonSerializable(typeof(StartIntentResponse))]
[JsonSerializable(typeof(RetrieveIntentRequest))]
[JsonSerializable(typeof(RetrieveIntentResponse))]
[JsonSerializable(typeof(AddLinkRequest))]
[JsonSerializable(typeof(DetailsResponse))]
[JsonSerializable(typeof(ListLinksRequest))]
[JsonSerializable(typeof(ListLinksResponse))]
[JsonSerializable(typeof(GatewayError))]
internal sealed partial class IntentJsonContext : JsonSerializerContext;
