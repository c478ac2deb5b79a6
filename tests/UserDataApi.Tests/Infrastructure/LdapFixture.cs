namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// The intent fixture and a real OpenLDAP directory, with an instance configured with <c>ldap</c> providers on it:
/// plain, StartTLS and LDAPS (trusting the test CA), StartTLS without that trust, a down server before the real one,
/// only a down server, and only a server that never answers. Every log line of that instance is captured.
/// </summary>
public sealed class LdapFixture : IAsyncLifetime
{
    public const string Plain = "test-ldap";
    public const string StartTls = "test-ldap-starttls";
    public const string Ldaps = "test-ldaps";
    public const string Untrusted = "test-ldap-untrusted";
    public const string Failover = "test-ldap-failover";
    public const string Down = "test-ldap-down";
    public const string Silent = "test-ldap-silent";

    /// <summary>The silent provider's <c>TimeoutSeconds</c>.</summary>
    public const int SilentTimeoutSeconds = 1;

    public IntentFixture Intents { get; } = new();
    public TestDirectory Directory { get; private set; } = null!;
    public ApiFactory Api { get; private set; } = null!;
    public LogCapture Logs { get; } = new();

    public async Task InitializeAsync()
    {
        await Intents.InitializeAsync();
        Directory = await TestDirectory.StartAsync();
        Api = await Intents.StartInstanceAsync(Settings(), Logs);
    }

    /// <summary>The providers of this fixture, with extra settings if given.</summary>
    public Dictionary<string, string?> Settings(IReadOnlyDictionary<string, string?>? extra = null)
    {
        var trusted = new Dictionary<string, string?> { ["RootCa"] = Directory.RootCaPath };
        var settings = new[]
        {
            Directory.ProviderSettings(Plain, Directory.LdapUrl),
            Directory.ProviderSettings(StartTls, Directory.LdapUrl, new Dictionary<string, string?>(trusted) { ["StartTls"] = "true" }),
            Directory.ProviderSettings(Ldaps, Directory.LdapsUrl, trusted),
            Directory.ProviderSettings(Untrusted, Directory.LdapUrl, new Dictionary<string, string?> { ["StartTls"] = "true" }),
            Directory.ProviderSettings(Failover, $"{Directory.DownUrl} {Directory.LdapUrl}"),
            Directory.ProviderSettings(Down, Directory.DownUrl),
            Directory.ProviderSettings(Silent, Directory.SilentUrl, new Dictionary<string, string?> { ["TimeoutSeconds"] = SilentTimeoutSeconds.ToString() }),
        }.SelectMany(provider => provider).ToDictionary();
        // Tests sign the same users in many times; the limit per username has a test of its own.
        settings["RateLimiting:PasswordAttemptsPerUsername"] = "1000000";
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    public async Task DisposeAsync()
    {
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
        if (Directory is not null)
        {
            await Directory.DisposeAsync();
        }
        await Intents.DisposeAsync();
    }
}
