using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>Runs the built entry point as a process, as an operator would, with bad settings.</summary>
public sealed class StartupSettingsTests
{
    private static async Task<(int ExitCode, string[] ErrorLines)> RunServerAsync(params (string Name, string Value)[] environment)
    {
        await using var server = ServerProcess.StartBuilt(environment);
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (exitCode, server.ErrorLines.Where(line => line.Length > 0).ToArray());
    }

    [Fact]
    public async Task Missing_connection_string_stops_start_up_with_one_line_naming_it()
    {
        var (exitCode, errors) = await RunServerAsync();

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(errors);
        Assert.Contains("ConnectionStrings:UserData", line);
    }

    [Theory]
    [InlineData("Auth__Authority", "not a url", "Auth:Authority")]
    [InlineData("Auth__ClockSkewSeconds", "-3", "Auth:ClockSkewSeconds")]
    [InlineData("Auth__KeyRefreshSeconds", "0", "Auth:KeyRefreshSeconds")]
    [InlineData("UserData__MaxKeysPerRequest", "many", "UserData:MaxKeysPerRequest")]
    [InlineData("Database__MigrateOnStartup", "maybe", "Database:MigrateOnStartup")]
    [InlineData("RateLimiting__PermitsPerIp", "0", "RateLimiting:PermitsPerIp")]
    [InlineData("RateLimiting__Enabled", "sometimes", "RateLimiting:Enabled")]
    [InlineData("Swagger__Enabled", "yes", "Swagger:Enabled")]
    [InlineData("Intents__AdminScope", "idp-intents", "Intents:AdminScope")]
    [InlineData("Intents__SweepSeconds", "100000000", "Intents:SweepSeconds")]
    [InlineData("Auth__Authority", "http://login.example/realms/app", "Auth:Authority")]
    [InlineData("IdentityProviders__DiscoveryUrl", "http://login.example/catalog", "IdentityProviders:DiscoveryUrl")]
    [InlineData("Cors__AllowedOrigins", "https://app.example/login", "Cors:AllowedOrigins")]
    [InlineData("Cors__AllowedOrigins", "https://app.example ftp://files.example", "Cors:AllowedOrigins")]
    [InlineData("Cors__AllowedOrigins__0", "app.example", "Cors:AllowedOrigins")]
    [InlineData("Shutdown__DrainSeconds", "-1", "Shutdown:DrainSeconds")]
    [InlineData("Shutdown__TimeoutSeconds", "0", "Shutdown:TimeoutSeconds")]
    public async Task Invalid_setting_stops_start_up_with_one_line_naming_it(string variable, string value, string key)
    {
        var (exitCode, errors) = await RunServerAsync(("ConnectionStrings__UserData", "Host=127.0.0.1;Port=1"), (variable, value));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(key, Assert.Single(errors));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("ten")]
    public async Task Invalid_provider_timeout_stops_start_up_with_one_line_naming_it(string value)
    {
        var (exitCode, errors) = await RunServerAsync(
            ("ConnectionStrings__UserData", "Host=127.0.0.1;Port=1"),
            ("Intents__Providers__slow__Type", "oauth"),
            ("Intents__Providers__slow__ClientId", "userdataapi"),
            ("Intents__Providers__slow__AuthorizationEndpoint", "https://idp.example/authorize"),
            ("Intents__Providers__slow__TokenEndpoint", "https://idp.example/token"),
            ("Intents__Providers__slow__UserInfoEndpoint", "https://idp.example/userinfo"),
            ("Intents__Providers__slow__TimeoutSeconds", value));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Intents:Providers:slow:TimeoutSeconds", Assert.Single(errors));
    }

    private static readonly (string Name, string Value)[] OAuthProvider =
    [
        ("ConnectionStrings__UserData", "Host=127.0.0.1;Port=1"),
        ("Intents__PublicBaseUrl", "https://api.example"),
        ("Intents__Providers__corp__Type", "oauth"),
        ("Intents__Providers__corp__ClientId", "userdataapi"),
        ("Intents__Providers__corp__AuthorizationEndpoint", "https://idp.example/authorize"),
        ("Intents__Providers__corp__TokenEndpoint", "https://idp.example/token"),
        ("Intents__Providers__corp__UserInfoEndpoint", "https://idp.example/userinfo"),
    ];

    private static readonly (string Name, string Value)[] LdapProvider =
    [
        ("ConnectionStrings__UserData", "Host=127.0.0.1;Port=1"),
        ("DataProtection__Certificate__Path", TestCertificates.KeyProtection.Path),
        ("DataProtection__Certificate__Password", TestCertificates.KeyProtection.Password),
        ("Intents__Providers__corp__Type", "ldap"),
        ("Intents__Providers__corp__Servers", "ldap://dc1.example ldaps://dc2.example:636"),
        ("Intents__Providers__corp__BaseDn", "dc=example,dc=com"),
        ("Intents__Providers__corp__BindDn", "cn=reader,dc=example,dc=com"),
        ("Intents__Providers__corp__BindPassword", "secret"),
        ("Intents__Providers__corp__UserObjectClasses", "inetOrgPerson"),
        ("Intents__Providers__corp__UserFilters", "uid mail"),
    ];

    [Theory]
    [InlineData("Servers", "", "Intents:Providers:corp:Servers")]
    [InlineData("Servers", "https://dc1.example", "Intents:Providers:corp:Servers")]
    [InlineData("Servers", "ldap://dc1.example/dc=example", "Intents:Providers:corp:Servers")]
    [InlineData("BaseDn", "", "Intents:Providers:corp:BaseDn")]
    [InlineData("BindPassword", "", "Intents:Providers:corp:BindPassword")]
    [InlineData("UserFilters", "", "Intents:Providers:corp:UserFilters")]
    [InlineData("UserFilters", "uid)(objectClass=*", "Intents:Providers:corp:UserFilters")]
    [InlineData("UserObjectClasses", "", "Intents:Providers:corp:UserObjectClasses")]
    [InlineData("EmailAttribute", "mail)(uid=*", "Intents:Providers:corp:EmailAttribute")]
    [InlineData("StartTls", "yes", "Intents:Providers:corp:StartTls")]
    [InlineData("RootCa", "/nonexistent/ca.pem", "Intents:Providers:corp:RootCa")]
    [InlineData("TimeoutSeconds", "0", "Intents:Providers:corp:TimeoutSeconds")]
    [InlineData("Type", "kerberos", "Intents:Providers:corp:Type")]
    public async Task An_invalid_ldap_provider_setting_stops_start_up_with_one_line_naming_it(string setting, string value, string key)
    {
        var (exitCode, errors) = await RunServerAsync([.. LdapProvider.Where(variable => variable.Name != $"Intents__Providers__corp__{setting}"),
            ($"Intents__Providers__corp__{setting}", value)]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(key, Assert.Single(errors));
    }

    [Fact]
    public async Task StartTls_on_an_ldaps_server_stops_start_up_with_one_line_naming_it()
    {
        var (exitCode, errors) = await RunServerAsync([.. LdapProvider, ("Intents__Providers__corp__StartTls", "true")]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Intents:Providers:corp:StartTls", Assert.Single(errors));
    }

    [Fact]
    public async Task A_redirect_flow_provider_without_a_public_base_url_stops_start_up_with_one_line_naming_it()
    {
        var (exitCode, errors) = await RunServerAsync([.. OAuthProvider.Where(variable => variable.Name != "Intents__PublicBaseUrl"),
            ("DataProtection__Certificate__Path", TestCertificates.KeyProtection.Path), ("DataProtection__Certificate__Password", TestCertificates.KeyProtection.Password)]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Intents:PublicBaseUrl", Assert.Single(errors));
    }

    [Fact]
    public async Task Providers_without_a_certificate_for_the_data_protection_keys_stop_start_up_with_one_line_naming_it()
    {
        var (exitCode, errors) = await RunServerAsync(OAuthProvider);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("DataProtection:Certificate:Path", Assert.Single(errors));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("not-a-certificate")]
    [InlineData("wrong-password")]
    public async Task An_unreadable_data_protection_certificate_stops_start_up_with_one_line_naming_it(string problem)
    {
        var certificate = TestCertificates.KeyProtection;
        var path = problem switch
        {
            "missing" => Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}.pfx"),
            "not-a-certificate" => Path.GetTempFileName(),
            _ => certificate.Path,
        };

        var (exitCode, errors) = await RunServerAsync([.. OAuthProvider,
            ("DataProtection__Certificate__Path", path), ("DataProtection__Certificate__Password", problem == "wrong-password" ? "wrong" : certificate.Password)]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("DataProtection:Certificate:Path", Assert.Single(errors));
    }
}
