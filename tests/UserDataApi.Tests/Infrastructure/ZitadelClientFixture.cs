using System.Net;
using Microsoft.AspNetCore.WebUtilities;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// The intent fixture's authority, provider and database, plus the built server as a process listening for real
/// (its main port for the REST gateway, gRPC-Web and Connect; <c>Grpc:Url</c> for cleartext gRPC), and ZITADEL's
/// npm clients to call it.
/// </summary>
public sealed class ZitadelClientFixture : IAsyncLifetime
{
    /// <summary>The test classes that share one fixture (one server process, one Node).</summary>
    public const string Collection = "ZITADEL clients";

    public IntentFixture Intents { get; } = new();
    public ServerProcess Server { get; private set; } = null!;
    public ZitadelClients Clients { get; private set; } = null!;

    /// <summary>An OpenLDAP directory, the server process's <see cref="LdapProvider"/>.</summary>
    public TestDirectory Directory { get; private set; } = null!;

    public const string LdapProvider = "test-ldap";

    /// <summary>The main port: the REST gateway, gRPC-Web and Connect (HTTP/1.1 and HTTP/2).</summary>
    public Uri MainUrl { get; private set; } = null!;

    /// <summary><c>Grpc:Url</c>: cleartext HTTP/2 only.</summary>
    public Uri GrpcUrl { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Intents.InitializeAsync();
        Directory = await TestDirectory.StartAsync();
        (Server, MainUrl, GrpcUrl) = await StartServerAsync();
        Clients = await ZitadelClients.StartAsync();
    }

    /// <summary>Another server process on the fixture's database, with its own cleartext gRPC listener and extra settings if given.</summary>
    public async Task<(ServerProcess Server, Uri MainUrl, Uri GrpcUrl)> StartServerAsync(IReadOnlyDictionary<string, string?>? extra = null)
    {
        var grpcUrl = new Uri($"http://127.0.0.1:{ServerProcess.FreePort()}");
        var settings = Directory.ProviderSettings(LdapProvider, Directory.LdapUrl);
        settings["RateLimiting:PasswordAttemptsPerUsername"] = "1000000";
        settings["Grpc:Url"] = grpcUrl.ToString();
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var server = Intents.StartProcess(settings);
        var listening = TimeSpan.FromSeconds(60);
        await server.WaitForOutputAsync(line => line.Contains("Now listening on") && line.Contains(grpcUrl.Authority), listening);
        var mainUrl = new Uri(System.Text.RegularExpressions.Regex.Match(
            await server.WaitForOutputAsync(line => line.Contains("Now listening on") && !line.Contains(grpcUrl.Authority), listening),
            @"http://[\d.]+:\d+").Value);
        return (server, mainUrl, grpcUrl);
    }

    /// <summary>Where a transport calls the server process: gRPC at <c>Grpc:Url</c>, the others on the main port.</summary>
    public Uri UrlOf(string transport) => transport == "grpc" ? GrpcUrl : MainUrl;

    /// <summary>A token of the test authority: the intents scope for <c>user-1</c> of <c>app-1</c> unless told otherwise.</summary>
    public string Token(string scopes = "idp-intents", string userId = "user-1", string clientApp = "app-1") =>
        Intents.Authority.CreateToken(userId, clientApp, scopes);

    public Task<RpcAnswer> CallAsync(string transport, string method, object request, string? token) =>
        Clients.CallAsync(transport, UrlOf(transport), token, method, request);

    /// <summary>A start request for the OIDC provider with the fixture's success and failure URLs.</summary>
    public static object StartRequest(string idpId = IntentFixture.OidcProvider) =>
        new { idpId, urls = new { successUrl = IntentFixture.SuccessUrl, failureUrl = IntentFixture.FailureUrl } };

    /// <summary>
    /// A whole redirect flow over <paramref name="transport"/>: start, sign in at the provider as <paramref name="user"/>,
    /// the provider's redirect delivered to the server process. Returns the success redirect's id and token.
    /// </summary>
    public async Task<(string Id, string Token)> LoginAsync(string transport, ProviderUser user, string token)
    {
        var started = (await CallAsync(transport, "startIdentityProviderIntent", StartRequest(), token)).Value;
        var callback = await Intents.SignInAtProviderAsync(new Uri(started.GetProperty("authUrl").GetString()!), user);
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var landing = await browser.GetAsync(new Uri(MainUrl, callback.PathAndQuery));
        Assert.True(landing.StatusCode == HttpStatusCode.Redirect, await landing.Content.ReadAsStringAsync());
        var query = QueryHelpers.ParseQuery(landing.Headers.Location!.Query);
        return (query["id"].ToString(), query["token"].ToString());
    }

    public async Task DisposeAsync()
    {
        if (Clients is not null)
        {
            await Clients.DisposeAsync();
        }
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
        if (Directory is not null)
        {
            await Directory.DisposeAsync();
        }
        await Intents.DisposeAsync();
    }
}

[CollectionDefinition(ZitadelClientFixture.Collection)]
public sealed class ZitadelClientCollection : ICollectionFixture<ZitadelClientFixture>;
