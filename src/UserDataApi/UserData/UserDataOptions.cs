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
