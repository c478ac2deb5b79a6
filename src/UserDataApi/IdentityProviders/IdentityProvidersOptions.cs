using Microsoft.Extensions.Options;
using UserDataApi.Auth;
using UserDataApi.Hosting;

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

internal sealed class IdentityProvidersOptionsValidator(IOptions<AuthOptions> auth, IHostEnvironment environment) : IValidateOptions<IdentityProvidersOptions>
{
    private const string Prefix = IdentityProvidersOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, IdentityProvidersOptions options) => SettingRules.Result(
    [
        SettingRules.AbsoluteHttpUrl(Prefix + nameof(IdentityProvidersOptions.DiscoveryUrl), options.DiscoveryUrl),
        SettingRules.Https(Prefix + nameof(IdentityProvidersOptions.DiscoveryUrl), options.DiscoveryUrl, auth.Value.HttpsRequired(environment),
            $"{AuthOptions.Section}:{nameof(AuthOptions.RequireHttpsMetadata)}"),
        SettingRules.AtLeast(Prefix + nameof(IdentityProvidersOptions.RefreshSeconds), options.RefreshSeconds, 1),
    ]);
}
