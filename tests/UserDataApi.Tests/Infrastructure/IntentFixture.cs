using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// A token authority, a real OpenID Connect provider, and two instances of the server sharing one
/// database, configured with that provider as an <c>oidc</c> and as an <c>oauth</c> identity provider.
/// </summary>
public sealed class IntentFixture : IAsyncLifetime
{
    public const string PublicBaseUrl = "http://localhost";
    public const string CallbackUrl = PublicBaseUrl + "/idps/callback";
    public const string AllowedOrigin = "https://login.example";
    public const string SuccessUrl = AllowedOrigin + "/idp/success?flow=42";
    public const string FailureUrl = AllowedOrigin + "/idp/failure";
    public const string OidcProvider = "test-oidc";
    public const string OAuthProvider = "test-oauth";

    public TestAuthority Authority { get; private set; } = null!;
    public TestIdentityProvider Provider { get; private set; } = null!;
    public ApiFactory First { get; private set; } = null!;
    public ApiFactory Second { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Authority = await TestAuthority.StartAsync();
        Provider = await TestIdentityProvider.StartAsync(await TestPostgres.CreateDatabaseAsync(), [CallbackUrl]);
        ConnectionString = await TestPostgres.CreateDatabaseAsync();
        First = await StartInstanceAsync();
        Second = await StartInstanceAsync();
    }

    /// <summary>Another server instance on the shared database, with extra settings if given, logging to <paramref name="logs"/> if given.</summary>
    public Task<ApiFactory> StartInstanceAsync(
        IReadOnlyDictionary<string, string?>? extra = null, LogCapture? logs = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) =>
        new ApiFactory(Authority, ConnectionString, InstanceSettings(extra), logs, services).StartedAsync();

    /// <summary>
    /// Another instance on the shared database as its own process (the built server, environment Production), for
    /// clients that need a real listener: its settings as environment variables, as an operator passes them.
    /// </summary>
    public ServerProcess StartProcess(IReadOnlyDictionary<string, string?>? extra = null) =>
        ServerProcess.StartBuilt(ApiFactory.BaseSettings(Authority, ConnectionString).Concat(InstanceSettings(extra))
            .Select(setting => (setting.Key.Replace(":", "__"), setting.Value ?? "")).ToArray());

    private Dictionary<string, string?> InstanceSettings(IReadOnlyDictionary<string, string?>? extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Intents:PublicBaseUrl"] = PublicBaseUrl,
            ["Intents:ResourceOwner"] = "org-test",
            ["Intents:AllowedRedirectOrigins:0"] = AllowedOrigin,
            [$"Intents:Providers:{OidcProvider}:Type"] = "oidc",
            [$"Intents:Providers:{OidcProvider}:Issuer"] = Provider.Issuer,
            [$"Intents:Providers:{OidcProvider}:ClientId"] = TestIdentityProvider.ClientId,
            [$"Intents:Providers:{OidcProvider}:ClientSecret"] = TestIdentityProvider.ClientSecret,
            [$"Intents:Providers:{OidcProvider}:Scopes"] = "openid profile email phone",
            [$"Intents:Providers:{OidcProvider}:RequireHttpsMetadata"] = "false",
            [$"Intents:Providers:{OAuthProvider}:Type"] = "oauth",
            [$"Intents:Providers:{OAuthProvider}:AuthorizationEndpoint"] = Provider.Issuer + "connect/authorize",
            [$"Intents:Providers:{OAuthProvider}:TokenEndpoint"] = Provider.Issuer + "connect/token",
            [$"Intents:Providers:{OAuthProvider}:UserInfoEndpoint"] = Provider.Issuer + "connect/userinfo",
            [$"Intents:Providers:{OAuthProvider}:IdAttribute"] = "sub",
            [$"Intents:Providers:{OAuthProvider}:Scopes"] = "openid profile email",
            [$"Intents:Providers:{OAuthProvider}:ClientId"] = TestIdentityProvider.ClientId,
            [$"Intents:Providers:{OAuthProvider}:ClientSecret"] = TestIdentityProvider.ClientSecret,
            [$"Intents:Providers:{OAuthProvider}:TokenEndpointAuthMethod"] = "client_secret_post",
            // Tests share one client app and one (absent) IP; the limits have their own tests.
            ["RateLimiting:PermitsPerClientApp"] = "1000000",
            ["RateLimiting:PermitsPerIp"] = "1000000",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    /// <summary>The scopes of a confidential login UI: intents, and the links of every user.</summary>
    public const string LoginUiScopes = "idp-intents idp-links-admin";

    /// <summary>An HTTP client for an instance, with a bearer token that has the intents scope unless told otherwise.</summary>
    public HttpClient ClientFor(ApiFactory instance, string scopes = "idp-intents", string userId = "user-1", string clientApp = "app-1")
    {
        var client = instance.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Authority.CreateToken(userId, clientApp, scopes));
        return client;
    }

    /// <summary>A client for the login UI, which may manage every user's links.</summary>
    public HttpClient LoginUiClientFor(ApiFactory instance) => ClientFor(instance, LoginUiScopes, userId: "login-ui-service", clientApp: "login-ui");

    public async Task<(string State, Uri AuthUrl)> StartIntentAsync(
        ApiFactory instance, string idpId = OidcProvider, string successUrl = SuccessUrl, string failureUrl = FailureUrl)
    {
        using var response = await ClientFor(instance).PostAsJsonAsync("/v2/idp_intents", new { idpId, urls = new { successUrl, failureUrl } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var authUrl = new Uri(JsonDocument.Parse(body).RootElement.GetProperty("authUrl").GetString()!);
        var state = QueryHelpers.ParseQuery(authUrl.Query)["state"].ToString();
        return (state, authUrl);
    }

    /// <summary>
    /// Plays the browser: follows the auth URL to the provider's login form, signs in, and returns
    /// the provider's redirect back to this server's callback (not yet followed).
    /// </summary>
    public async Task<Uri> SignInAtProviderAsync(Uri authUrl, ProviderUser user)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() });
        using var toLogin = await browser.GetAsync(authUrl);
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        var loginUrl = new Uri(authUrl, toLogin.Headers.Location!);
        var returnUrl = QueryHelpers.ParseQuery(loginUrl.Query)["ReturnUrl"].ToString();
        Assert.Contains("<form", await browser.GetStringAsync(loginUrl));

        using var signedIn = await browser.PostAsync(new Uri(authUrl, "/login"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = user.UserName, ["password"] = user.Password, ["returnUrl"] = returnUrl,
        }));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        using var authorized = await browser.GetAsync(new Uri(authUrl, signedIn.Headers.Location!));
        Assert.Equal(HttpStatusCode.Redirect, authorized.StatusCode);
        var callback = authorized.Headers.Location!;
        Assert.StartsWith(CallbackUrl, callback.ToString());
        return callback;
    }

    /// <summary>Delivers the provider's redirect to an instance's callback and returns where that sends the browser.</summary>
    public async Task<Uri> DeliverCallbackAsync(ApiFactory instance, Uri callback)
    {
        using var client = instance.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var response = await client.GetAsync(callback.PathAndQuery);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!;
    }

    /// <summary>The id of the intent a start handed out this state for, read from the shared database.</summary>
    public async Task<string> IntentIdOfStateAsync(string state)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT id FROM idp_intents WHERE state_hash = @hash", connection);
        command.Parameters.AddWithValue("hash", System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(state)));
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The stored state of an intent, read from the shared database.</summary>
    public async Task<UserDataApi.Persistence.IntentState> IntentStateAsync(string intentId) =>
        (UserDataApi.Persistence.IntentState)await TestSql.ScalarAsync<short>(ConnectionString, "SELECT state FROM idp_intents WHERE id = $1", intentId);

    public async Task<HttpResponseMessage> RetrieveAsync(ApiFactory instance, string intentId, string? token) =>
        await ClientFor(instance).PostAsJsonAsync($"/v2/idp_intents/{intentId}", new { idpIntentToken = token });

    public async Task DisposeAsync()
    {
        await First.DisposeAsync();
        await Second.DisposeAsync();
        await Provider.DisposeAsync();
        await Authority.DisposeAsync();
    }
}
