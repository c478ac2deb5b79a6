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
    public string IdAttribute { get; set; } = "id";

    /// <summary><c>client_secret_basic</c> (default) or <c>client_secret_post</c>.</summary>
    public string? TokenEndpointAuthMethod { get; set; }

    /// <summary>How long each call to the provider (discovery, key set, token, user info) may take before the provider counts as failed.</summary>
    public int TimeoutSeconds { get; set; } = 10;

    public bool IsOidc => string.Equals(Type, OidcType, StringComparison.OrdinalIgnoreCase);
}
