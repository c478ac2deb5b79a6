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
}
