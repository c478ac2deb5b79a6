using Microsoft.Extensions.Options;
using UserDataApi.Hosting;

namespace UserDataApi.Auth;

/// <summary>Where bearer tokens come from and how strictly they are checked (configuration section <c>Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";
    public const string HyperIdAuthority = "https://login.hypersecureid.com/auth/realms/HyperID";

    public string Authority { get; set; } = HyperIdAuthority;
    public string? Audience { get; set; }
    public bool? RequireHttpsMetadata { get; set; }
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>
    /// Least time between two fetches of the authority's keys that a token with an unknown key can cause.
    /// Short enough that a rotated key is picked up soon after an outage; long enough that forged kids cannot flood the authority.
    /// </summary>
    public int KeyRefreshSeconds { get; set; } = 30;

    /// <summary>Discovery documents and keys over https only: unless turned off, everywhere but in Development.</summary>
    public bool HttpsRequired(IHostEnvironment environment) => RequireHttpsMetadata ?? !environment.IsDevelopment();
}

internal sealed class AuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuthOptions>
{
    private const string Prefix = AuthOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, AuthOptions options) => SettingRules.Result(
    [
        SettingRules.AbsoluteHttpUrl(Prefix + nameof(AuthOptions.Authority), options.Authority, required: true),
        SettingRules.Https(Prefix + nameof(AuthOptions.Authority), options.Authority, options.HttpsRequired(environment), Prefix + nameof(AuthOptions.RequireHttpsMetadata)),
        SettingRules.AtLeast(Prefix + nameof(AuthOptions.ClockSkewSeconds), options.ClockSkewSeconds, 0),
        SettingRules.AtLeast(Prefix + nameof(AuthOptions.KeyRefreshSeconds), options.KeyRefreshSeconds, 1),
    ]);
}
