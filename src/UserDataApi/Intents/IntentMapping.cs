using System.Text.Json;
using System.Text.Json.Nodes;

namespace UserDataApi.Intents;

/// <summary>Turns a provider's claims into the user shapes of ZITADEL v2 (SPEC §4).</summary>
public static class IntentMapping
{
    public static Profile ProfileOf(JsonObject claims) => new(
        Text(claims, "given_name"),
        Text(claims, "family_name"),
        Text(claims, "nickname"),
        Text(claims, "name"),
        Text(claims, "locale") ?? "und");

    public static Email? EmailOf(JsonObject claims) =>
        Text(claims, "email") is { } address ? new Email(address, Flag(claims, "email_verified")) : null;

    public static Phone? PhoneOf(JsonObject claims) =>
        Text(claims, "phone_number") is { } number ? new Phone(number, Flag(claims, "phone_number_verified")) : null;

    public static AddHumanUser AddHumanUser(JsonObject claims, IdpLinkInfo link) =>
        new(Text(claims, "preferred_username"), ProfileOf(claims), EmailOf(claims), PhoneOf(claims), [link]);

    public static UpdateHumanUser UpdateHumanUser(string userId, JsonObject claims) =>
        new(userId, Text(claims, "preferred_username"), ProfileOf(claims), EmailOf(claims), PhoneOf(claims));

    public static CreateUser CreateUser(string organizationId, string? userId, JsonObject claims, IdpLinkInfo link) =>
        new(organizationId, userId, Text(claims, "preferred_username"),
            new CreateUserHuman(ProfileOf(claims), EmailOf(claims), PhoneOf(claims), [link]));

    private static string? Text(JsonObject claims, string name) =>
        claims[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>Providers write verification flags as JSON booleans or as "true"/"false".</summary>
    private static bool Flag(JsonObject claims, string name) => claims[name] switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.True => true,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => string.Equals(value.GetValue<string>(), "true", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
