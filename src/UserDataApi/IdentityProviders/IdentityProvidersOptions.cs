namespace UserDataApi.IdentityProviders;

/// <summary>Where the identity-provider catalog comes from (configuration section <c>IdentityProviders</c>).</summary>
public sealed class IdentityProvidersOptions
{
    public const string Section = "IdentityProviders";

    /// <summary>Document holding <c>identity_providers</c>; the authority's discovery document when unset.</summary>
    public string? DiscoveryUrl { get; set; }

    public int RefreshSeconds { get; set; } = 300;

    /// <summary>A local copy of such a document, read instead of fetching when no <see cref="DiscoveryUrl"/> is set (used in Development).</summary>
    public string? File { get; set; }
}
