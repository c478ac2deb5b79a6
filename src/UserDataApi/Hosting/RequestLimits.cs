using Microsoft.Extensions.Options;

namespace UserDataApi.Hosting;

/// <summary>The rate limits (configuration section <c>RateLimiting</c>): of the intent calls, and of forged tokens on every call.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    /// <summary>Unset: on, except in Development.</summary>
    public bool? Enabled { get; set; }

    public int WindowSeconds { get; set; } = 60;
    public int PermitsPerClientApp { get; set; } = 600;
    public int PermitsPerIp { get; set; } = 120;
    public int FailedAuthenticationsPerIp { get; set; } = 100;

    /// <summary>Password attempts (LDAP sign-ins) one username of one provider may have in a window.</summary>
    public int PasswordAttemptsPerUsername { get; set; } = 10;

    public bool IsEnabled(IHostEnvironment environment) => Enabled ?? !environment.IsDevelopment();
}

internal sealed class RateLimitingOptionsValidator : IValidateOptions<RateLimitingOptions>
{
    private const string Prefix = RateLimitingOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, RateLimitingOptions options) => SettingRules.Result(
    [
        SettingRules.AtLeast(Prefix + nameof(RateLimitingOptions.WindowSeconds), options.WindowSeconds, 1),
        SettingRules.AtLeast(Prefix + nameof(RateLimitingOptions.PermitsPerClientApp), options.PermitsPerClientApp, 1),
        SettingRules.AtLeast(Prefix + nameof(RateLimitingOptions.PermitsPerIp), options.PermitsPerIp, 1),
        SettingRules.AtLeast(Prefix + nameof(RateLimitingOptions.FailedAuthenticationsPerIp), options.FailedAuthenticationsPerIp, 1),
        SettingRules.AtLeast(Prefix + nameof(RateLimitingOptions.PasswordAttemptsPerUsername), options.PasswordAttemptsPerUsername, 1),
    ]);
}

/// <summary>What one request may be: its body's size (SPEC §7), and how often a caller may call (<see cref="RateLimitingOptions"/>).</summary>
public static class RequestLimits
{
    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = JsonRequestBody.MaxBytes);
        builder.Services.AddOptions<RateLimitingOptions>().Bind(builder.Configuration.GetSection(RateLimitingOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitingOptions>, RateLimitingOptionsValidator>();
        return builder;
    }
}
