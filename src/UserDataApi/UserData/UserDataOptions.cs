using Microsoft.Extensions.Options;
using UserDataApi.Hosting;

namespace UserDataApi.UserData;

/// <summary>Limits and scopes of the user-data endpoints (configuration section <c>UserData</c>).</summary>
public sealed class UserDataOptions
{
    public const string Section = "UserData";

    public int MaxKeysPerRequest { get; set; } = 100;
    public int MaxKeyLength { get; set; } = 256;
    public int MaxValueLength { get; set; } = 65536;
    public string ReadScopes { get; set; } = "email user-data-get";
    public string WriteScopes { get; set; } = "email user-data-set";
}

internal sealed class UserDataOptionsValidator : IValidateOptions<UserDataOptions>
{
    private const string Prefix = UserDataOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, UserDataOptions options) => SettingRules.Result(
    [
        SettingRules.AtLeast(Prefix + nameof(UserDataOptions.MaxKeysPerRequest), options.MaxKeysPerRequest, 1),
        SettingRules.AtLeast(Prefix + nameof(UserDataOptions.MaxKeyLength), options.MaxKeyLength, 1),
        SettingRules.AtLeast(Prefix + nameof(UserDataOptions.MaxValueLength), options.MaxValueLength, 1),
    ]);
}
