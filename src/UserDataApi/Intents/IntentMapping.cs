using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using UserDataApi.Intents.Rpc.User;

namespace UserDataApi.Intents;

/// <summary>
/// Turns a provider's claims into the user messages of ZITADEL v2 (SPEC §4.3), in a form a real ZITADEL accepts:
/// given and family names never empty, verified addresses as <c>isVerified: true</c> and the others as
/// <c>sendCode</c>, and nothing set that the provider did not say.
/// </summary>
public static class IntentMapping
{
    /// <summary>The language ZITADEL files a profile under when the provider names none ("undetermined").</summary>
    public const string UndeterminedLanguage = "und";

    public static SetHumanProfile ProfileOf(JsonObject claims, string userName)
    {
        var displayName = Text(claims, "name");
        var profile = new SetHumanProfile
        {
            GivenName = Text(claims, "given_name") ?? displayName ?? userName,
            FamilyName = Text(claims, "family_name") ?? displayName ?? userName,
            PreferredLanguage = Text(claims, "locale") ?? UndeterminedLanguage,
        };
        if (Text(claims, "nickname") is { } nickName)
        {
            profile.NickName = nickName;
        }
        if (displayName is not null)
        {
            profile.DisplayName = displayName;
        }
        return profile;
    }

    public static SetHumanEmail? EmailOf(JsonObject claims)
    {
        if (Text(claims, "email") is not { } address)
        {
            return null;
        }
        var email = new SetHumanEmail { Email = address };
        if (Flag(claims, "email_verified"))
        {
            email.IsVerified = true;
        }
        else
        {
            email.SendCode = new SendEmailVerificationCode();
        }
        return email;
    }

    public static SetHumanPhone? PhoneOf(JsonObject claims)
    {
        if (Text(claims, "phone_number") is not { } number)
        {
            return null;
        }
        var phone = new SetHumanPhone { Phone = number };
        if (Flag(claims, "phone_number_verified"))
        {
            phone.IsVerified = true;
        }
        else
        {
            phone.SendCode = new SendPhoneVerificationCode();
        }
        return phone;
    }

    public static AddHumanUserRequest AddHumanUser(JsonObject claims, IDPLink link)
    {
        var user = new AddHumanUserRequest { Username = link.UserName, Profile = ProfileOf(claims, link.UserName), Email = EmailOf(claims), Phone = PhoneOf(claims) };
        user.IdpLinks.Add(link);
        return user;
    }

    public static UpdateHumanUserRequest UpdateHumanUser(string userId, JsonObject claims, string userName) =>
        new() { UserId = userId, Username = userName, Profile = ProfileOf(claims, userName), Email = EmailOf(claims), Phone = PhoneOf(claims) };

    public static CreateUserRequest CreateUser(string organizationId, string? userId, JsonObject claims, IDPLink link)
    {
        var human = new CreateUserRequest.Types.Human { Profile = ProfileOf(claims, link.UserName), Email = EmailOf(claims), Phone = PhoneOf(claims) };
        human.IdpLinks.Add(link);
        var user = new CreateUserRequest { OrganizationId = organizationId, Username = link.UserName, Human = human };
        if (userId is not null)
        {
            user.UserId = userId;
        }
        return user;
    }

    /// <summary>
    /// SPEC §4.3: an LDAP entry's fields as the provider's attribute settings map them (the first value of each), the
    /// intent's <c>rawInformation</c>; a field whose attribute is not set or not in the entry is left out.
    /// </summary>
    public static JsonObject LdapFields(ProviderOptions provider, LdapEntry entry)
    {
        var fields = new JsonObject();
        void Map(string field, string? attribute, bool flag = false)
        {
            if (string.IsNullOrWhiteSpace(attribute) || !entry.Attributes.TryGetValue(attribute, out var values) || values.Count == 0 || values[0].Length == 0)
            {
                return;
            }
            fields[field] = flag ? JsonValue.Create(values[0].Equals("true", StringComparison.OrdinalIgnoreCase)) : JsonValue.Create(values[0]);
        }
        Map("id", provider.UserIdAttribute);
        Map("preferredUsername", provider.PreferredUsernameAttribute);
        Map("email", provider.EmailAttribute);
        Map("emailVerified", provider.EmailVerifiedAttribute, flag: true);
        Map("firstName", provider.FirstNameAttribute);
        Map("lastName", provider.LastNameAttribute);
        Map("displayName", provider.DisplayNameAttribute);
        Map("nickName", provider.NickNameAttribute);
        Map("preferredLanguage", provider.PreferredLanguageAttribute);
        Map("phone", provider.PhoneAttribute);
        Map("phoneVerified", provider.PhoneVerifiedAttribute, flag: true);
        Map("avatarUrl", provider.AvatarUrlAttribute);
        Map("profile", provider.ProfileAttribute);
        return fields;
    }

    /// <summary>An LDAP intent's fields under the OpenID claim names the user messages are built from.</summary>
    public static JsonObject ClaimsOfLdap(JsonObject fields)
    {
        var claims = new JsonObject();
        foreach (var (field, claim) in LdapClaims)
        {
            if (fields[field] is { } value)
            {
                claims[claim] = value.DeepClone();
            }
        }
        return claims;
    }

    private static readonly (string Field, string Claim)[] LdapClaims =
    [
        ("id", "sub"), ("preferredUsername", "preferred_username"), ("email", "email"), ("emailVerified", "email_verified"),
        ("firstName", "given_name"), ("lastName", "family_name"), ("displayName", "name"), ("nickName", "nickname"),
        ("preferredLanguage", "locale"), ("phone", "phone_number"), ("phoneVerified", "phone_number_verified"),
        ("avatarUrl", "picture"), ("profile", "profile"),
    ];

    /// <summary>
    /// Claims as the <see cref="Struct"/> of <c>idpInformation.rawInformation</c>, value for value (numbers as doubles, as
    /// protobuf's JSON parser reads them), without writing the JSON out and parsing it again.
    /// </summary>
    public static Struct StructOf(JsonObject claims)
    {
        var result = new Struct();
        foreach (var (name, node) in claims)
        {
            result.Fields[name] = ValueOf(node);
        }
        return result;
    }

    private static Value ValueOf(JsonNode? node) => node switch
    {
        JsonObject inner => Value.ForStruct(StructOf(inner)),
        JsonArray items => Value.ForList(items.Select(ValueOf).ToArray()),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => Value.ForString(value.GetValue<string>()),
            JsonValueKind.Number => Value.ForNumber(value.GetValue<double>()),
            JsonValueKind.True => Value.ForBool(true),
            JsonValueKind.False => Value.ForBool(false),
            _ => Value.ForNull(),
        },
        _ => Value.ForNull(),
    };

    /// <summary>A claim that is a non-empty JSON string; null otherwise.</summary>
    public static string? Text(JsonObject claims, string name) =>
        claims[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text ? text : null;

    /// <summary>Providers write verification flags as JSON booleans or as "true"/"false".</summary>
    private static bool Flag(JsonObject claims, string name) => claims[name] switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.True => true,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => string.Equals(value.GetValue<string>(), "true", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
