using Microsoft.Extensions.Options;
using UserDataApi.Auth;
using UserDataApi.Hosting;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>Identity-provider intents (configuration section <c>Intents</c>, SPEC §4).</summary>
public sealed class IntentsOptions
{
    public const string Section = "Intents";

    /// <summary>Public address of this server; the providers' redirect URI is <c>{PublicBaseUrl}/idps/callback</c>. Unset: the request's own address.</summary>
    public string? PublicBaseUrl { get; set; }

    public string ResourceOwner { get; set; } = "default";
    public int LifetimeSeconds { get; set; } = 3600;

    /// <summary>How often each instance removes the intents whose lifetime has ended.</summary>
    public int SweepSeconds { get; set; } = 60;
    public string Scope { get; set; } = "idp-intents";

    /// <summary>
    /// The scope that lets a caller manage the links of any user, not only its own (<c>sub</c>): meant for a
    /// confidential login-UI client only.
    /// </summary>
    public string AdminScope { get; set; } = "idp-links-admin";

    /// <summary>Origins (scheme://host[:port]) that successUrl and failureUrl may point to; any in Development when empty.</summary>
    public List<string> AllowedRedirectOrigins { get; set; } = [];

    public Dictionary<string, ProviderOptions> Providers { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One external identity provider (<c>Intents:Providers:{idpId}</c>).</summary>
public sealed class ProviderOptions
{
    public const string OidcType = "oidc";
    public const string OAuthType = "oauth";
    public const string LdapType = "ldap";
    public const string ClientSecretPost = "client_secret_post";

    public string Type { get; set; } = OidcType;
    public string ClientId { get; set; } = "";
    public string ClientSecret { get; set; } = "";
    public string Scopes { get; set; } = "openid profile email";
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>oidc: the issuer, read through its discovery document.</summary>
    public string? Issuer { get; set; }

    /// <summary>oauth: the endpoints and the user-info field holding the user's id.</summary>
    public string? AuthorizationEndpoint { get; set; }
    public string? TokenEndpoint { get; set; }
    public string? UserInfoEndpoint { get; set; }

    /// <summary>oauth: the user-info field holding the user's id (default <c>id</c>); ldap: the entry's attribute (default <c>uid</c>).</summary>
    public string? IdAttribute { get; set; }

    /// <summary>oauth: the user-info field holding the user's name (else the email, else the id, stand in for it).</summary>
    public string UserNameAttribute { get; set; } = "preferred_username";

    /// <summary><c>client_secret_basic</c> (default) or <c>client_secret_post</c>.</summary>
    public string? TokenEndpointAuthMethod { get; set; }

    /// <summary>How long each call to the provider (discovery, key set, token, user info) may take before the provider counts as failed.</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>ldap (SPEC §4.4): the directory's servers, tried in order (<c>ldap://</c> or <c>ldaps://</c>).</summary>
    public List<string> Servers { get; set; } = [];

    /// <summary>ldap: upgrade <c>ldap://</c> connections with StartTLS.</summary>
    public bool StartTls { get; set; }

    public string? BaseDn { get; set; }

    /// <summary>ldap: the service account that searches for the user's entry; unset: an anonymous search.</summary>
    public string? BindDn { get; set; }
    public string? BindPassword { get; set; }

    /// <summary>ldap: where users are searched; unset: <see cref="BaseDn"/>.</summary>
    public string? UserBase { get; set; }

    /// <summary>ldap: the object classes a user's entry has (all of them).</summary>
    public List<string> UserObjectClasses { get; set; } = [];

    /// <summary>ldap: the attributes the username is matched against (any of them).</summary>
    public List<string> UserFilters { get; set; } = [];

    /// <summary>ldap: a PEM file of the certificates trusted for ldaps:// and StartTLS; unset: the system's store.</summary>
    public string? RootCa { get; set; }

    /// <summary>ldap: the entry's attributes that fill the user's fields (unset: the field stays empty).</summary>
    public string? FirstNameAttribute { get; set; }
    public string? LastNameAttribute { get; set; }
    public string? DisplayNameAttribute { get; set; }
    public string? NickNameAttribute { get; set; }
    public string? PreferredUsernameAttribute { get; set; }
    public string? EmailAttribute { get; set; }
    public string? EmailVerifiedAttribute { get; set; }
    public string? PhoneAttribute { get; set; }
    public string? PhoneVerifiedAttribute { get; set; }
    public string? PreferredLanguageAttribute { get; set; }
    public string? AvatarUrlAttribute { get; set; }
    public string? ProfileAttribute { get; set; }

    /// <summary><see cref="IdAttribute"/>, or its default for the type.</summary>
    public string UserIdAttribute => string.IsNullOrWhiteSpace(IdAttribute) ? IsLdap ? "uid" : "id" : IdAttribute;

    /// <summary>ldap: where users are searched.</summary>
    public string UserSearchBase => string.IsNullOrWhiteSpace(UserBase) ? BaseDn ?? "" : UserBase;

    public bool IsLdap => string.Equals(Type, LdapType, StringComparison.OrdinalIgnoreCase);

    public bool IsOidc => string.Equals(Type, OidcType, StringComparison.OrdinalIgnoreCase);

    public bool IsOAuth => string.Equals(Type, OAuthType, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the user is sent to the provider and back to <c>/idps/callback</c>.</summary>
    public bool IsRedirectFlow => IsOidc || IsOAuth;
}

/// <summary>
/// The rules of SPEC §4 and §5 for <c>Intents</c>, each provider's included, and the two that span sections:
/// outside Development, redirect-flow providers need <c>Intents:PublicBaseUrl</c> (the callback URL must not follow the
/// request's Host header) and any provider needs <c>DataProtection:Certificate</c> (the keys that seal provider tokens
/// must not lie in clear beside them).
/// </summary>
internal sealed class IntentsOptionsValidator(IOptions<KeyRingOptions> keyRing, IConfiguration configuration, IHostEnvironment environment)
    : IValidateOptions<IntentsOptions>
{
    private const string Prefix = IntentsOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, IntentsOptions options)
    {
        var development = environment.IsDevelopment();
        var failures = new List<string?>
        {
            SettingRules.AbsoluteHttpUrl(Prefix + nameof(IntentsOptions.PublicBaseUrl), options.PublicBaseUrl),
            SettingRules.AtLeast(Prefix + nameof(IntentsOptions.LifetimeSeconds), options.LifetimeSeconds, 1),
            SettingRules.Between(Prefix + nameof(IntentsOptions.SweepSeconds), options.SweepSeconds, 1, 86_400),
            SettingRules.NotBlank(Prefix + nameof(IntentsOptions.Scope), options.Scope),
            SettingRules.NotBlank(Prefix + nameof(IntentsOptions.AdminScope), options.AdminScope),
            // An admin scope that every intents token already has would make every caller an administrator of every user's links.
            ScopeSet.Parse(options.Scope).Covers(ScopeSet.Parse(options.AdminScope))
                ? $"{Prefix}{nameof(IntentsOptions.AdminScope)} must name a scope that {Prefix}{nameof(IntentsOptions.Scope)} does not already require, not '{options.AdminScope}'."
                : null,
        };
        // The binder drops a provider a setting of which is not of its type: those are named from configuration itself.
        foreach (var section in configuration.GetSection(Prefix + nameof(IntentsOptions.Providers)).GetChildren())
        {
            failures.Add(SettingRules.OfType<int>(configuration, $"{section.Path}:{nameof(ProviderOptions.TimeoutSeconds)}"));
            failures.Add(SettingRules.OfType<bool>(configuration, $"{section.Path}:{nameof(ProviderOptions.RequireHttpsMetadata)}"));
            failures.Add(SettingRules.OfType<bool>(configuration, $"{section.Path}:{nameof(ProviderOptions.StartTls)}"));
        }
        failures.AddRange(options.Providers.SelectMany(provider => ProviderFailures($"{Prefix}{nameof(IntentsOptions.Providers)}:{provider.Key}", provider.Value)));
        if (!development && options.Providers.Values.Any(p => p.IsRedirectFlow) && string.IsNullOrWhiteSpace(options.PublicBaseUrl))
        {
            failures.Add($"{Prefix}{nameof(IntentsOptions.PublicBaseUrl)} is required when an oidc or oauth provider is configured: providers redirect to {{PublicBaseUrl}}/idps/callback.");
        }
        if (!development && options.Providers.Count > 0 && !keyRing.Value.IsPersistent)
        {
            failures.Add($"{KeyRingOptions.Section}:Certificate:Path is required when Intents:Providers are configured: the certificate protects the keys that seal provider tokens.");
        }
        return SettingRules.Result(failures);
    }

    private static IEnumerable<string?> ProviderFailures(string key, ProviderOptions provider)
    {
        if (!provider.IsLdap && !provider.IsRedirectFlow)
        {
            yield return $"{key}:{nameof(ProviderOptions.Type)} must be '{ProviderOptions.OidcType}', '{ProviderOptions.OAuthType}' or '{ProviderOptions.LdapType}', not '{provider.Type}'.";
            yield break;
        }
        yield return SettingRules.Between($"{key}:{nameof(ProviderOptions.TimeoutSeconds)}", provider.TimeoutSeconds, 1, LdapDirectory.MaxTimeoutSeconds);
        if (provider.IsLdap)
        {
            foreach (var failure in LdapSettings.Failures(key, provider))
            {
                yield return failure;
            }
            yield break;
        }
        yield return SettingRules.Required($"{key}:{nameof(ProviderOptions.ClientId)}", provider.ClientId);
        if (provider.IsOidc)
        {
            yield return SettingRules.AbsoluteHttpUrl($"{key}:{nameof(ProviderOptions.Issuer)}", provider.Issuer, required: true);
        }
        else
        {
            yield return SettingRules.AbsoluteHttpUrl($"{key}:{nameof(ProviderOptions.AuthorizationEndpoint)}", provider.AuthorizationEndpoint, required: true);
            yield return SettingRules.AbsoluteHttpUrl($"{key}:{nameof(ProviderOptions.TokenEndpoint)}", provider.TokenEndpoint, required: true);
            yield return SettingRules.AbsoluteHttpUrl($"{key}:{nameof(ProviderOptions.UserInfoEndpoint)}", provider.UserInfoEndpoint, required: true);
        }
    }
}
